"""Template answers are checked against the template's fields."""

import pytest

from core.errors import ValidationFailed
from templates.services import MAX_PHOTOS, MAX_TEXT_LENGTH, validate_answers
from tests.factories import CaseTemplateFactory, TemplateFieldFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def template():
    template = CaseTemplateFactory()
    TemplateFieldFactory(template=template, key="note", kind="text", label="说明")
    TemplateFieldFactory(template=template, key="count", kind="number", label="数量", required=True)
    TemplateFieldFactory(
        template=template, key="goods", kind="choice", label="品类", choices="果蔬\n熟食"
    )
    TemplateFieldFactory(template=template, key="found_on", kind="date", label="日期")
    TemplateFieldFactory(template=template, key="photos", kind="photo", label="照片")
    return template


def errors(template, answers):
    with pytest.raises(ValidationFailed) as refused:
        validate_answers(template, answers)
    return refused.value.fields


def test_valid_answers_are_cleaned(template):
    cleaned = validate_answers(
        template,
        {
            "note": "  有人摆摊 ",
            "count": "3",
            "goods": "熟食",
            "found_on": "2024-05-01",
            "photos": "p/1.jpg",
        },
    )
    assert cleaned == {
        "note": "有人摆摊",
        "count": 3,
        "goods": "熟食",
        "found_on": "2024-05-01",
        "photos": ["p/1.jpg"],
    }
    assert validate_answers(template, {"count": 2.5})["count"] == 2.5


@pytest.mark.parametrize(
    ("answers", "bad"),
    [
        ({}, {"count"}),
        ({"count": ""}, {"count"}),
        ({"count": True}, {"count"}),
        ({"count": "NaN"}, {"count"}),
        ({"count": "三"}, {"count"}),
        ({"count": 1, "goods": "家电"}, {"goods"}),
        ({"count": 1, "found_on": "01/05/2024"}, {"found_on"}),
        ({"count": 1, "note": "字" * (MAX_TEXT_LENGTH + 1)}, {"note"}),
        ({"count": 1, "note": 5}, {"note"}),
        ({"count": 1, "photos": ["p"] * (MAX_PHOTOS + 1)}, {"photos"}),
        ({"count": 1, "photos": [""]}, {"photos"}),
        ({"count": 1, "colour": "红"}, {"colour"}),
    ],
)
def test_each_kind_refuses_bad_values(template, answers, bad):
    assert set(errors(template, answers)) == bad


def test_every_problem_is_reported_at_once(template):
    assert set(errors(template, {"goods": "家电", "found_on": "昨天", "x": 1})) == {
        "count",
        "goods",
        "found_on",
        "x",
    }


def test_answers_must_be_an_object(template):
    assert "answers" in errors(template, ["count", 1])


def test_no_template_takes_no_answers():
    assert validate_answers(None, {}) == {}
    with pytest.raises(ValidationFailed):
        validate_answers(None, {"x": 1})
