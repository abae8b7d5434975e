"""A bare date in a filter is the whole local day in Asia/Shanghai, in every filter: the
case list's ``created_after``/``created_before`` and the indicators' ``from``/``to`` count
the same cases for the same day, and the schema says so."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from analytics.facts import refresh_all
from cases.models import Case
from tests.api.client import as_user

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


#: Case title → when it was raised, local time.
RAISED = {
    "29日末": local(2026, 11, 29, 23, 59, 59),
    "30日零点": local(2026, 11, 30, 0, 0),
    "30日零点半": local(2026, 11, 30, 0, 30),  # 11-29 16:30 UTC
    "30日末": local(2026, 11, 30, 23, 59, 59),
    "1日零点": local(2026, 12, 1, 0, 0),
}
NOVEMBER_30 = {"30日零点", "30日零点半", "30日末"}


@pytest.fixture
def raised(world, case_in):
    for title, moment in RAISED.items():
        case = case_in("dispatched")
        Case.objects.filter(pk=case.pk).update(title=title, created_at=moment)
    refresh_all()  # the indicators' daily figures, as after the nightly rebuild


def titles(user, **params) -> set[str]:
    response = as_user(user).get(reverse("api:case-list"), {**params, "page_size": 50})
    assert response.status_code == 200, response.content
    return {row["title"] for row in response.json()["results"]}


def raised_count(user, **params) -> int:
    response = as_user(user).get(reverse("api:analytics-overview"), params)
    assert response.status_code == 200, response.content
    return response.json()["data"]["raised"]


def test_the_same_day_in_both_filters_counts_what_the_overview_counts(world, raised):
    day = titles(world.auditor, created_after="2026-11-30", created_before="2026-11-30")
    assert day == NOVEMBER_30
    assert raised_count(world.auditor, **{"from": "2026-11-30", "to": "2026-11-30"}) == len(day)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-11-29", {"29日末"}),
        ("2026-11-30", NOVEMBER_30),
        ("2026-12-01", {"1日零点"}),
    ],
)
def test_each_edge_lands_on_its_local_day(world, raised, day, expected):
    assert titles(world.auditor, created_after=day, created_before=day) == expected
    assert raised_count(world.auditor, **{"from": day, "to": day}) == len(expected)


def test_after_and_before_alone_include_the_whole_day(world, raised):
    assert titles(world.auditor, created_before="2026-11-29") == {"29日末"}
    assert titles(world.auditor, created_after="2026-11-30") == set(RAISED) - {"29日末"}
    assert titles(world.auditor, created_before="2026-11-30") == set(RAISED) - {"1日零点"}


def test_a_date_or_a_moment_and_nothing_else(world, raised):
    """A bare date is its whole day, a moment with its time is that moment, the rest a 400."""
    assert titles(world.auditor, created_before="2026-11-30", created_after="2026-11-30") == (
        NOVEMBER_30
    )
    assert titles(
        world.auditor,
        created_after="2026-11-29T16:30:00Z",
        created_before="2026-11-30T23:59:59+08:00",
    ) == {"30日零点半"}
    for value in ("2026-13-01", "yesterday", "2026-11-31"):
        response = as_user(world.auditor).get(reverse("api:case-list"), {"created_after": value})
        assert response.status_code == 400, value
        assert list(response.json()["error"]["fields"]) == ["created_after"]


def test_the_schema_says_a_date_is_the_whole_local_day(world):
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    described = {}
    for path, operations in schema["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            described[(path, parameter["name"])] = parameter.get("description", "")
    for key in [
        ("/api/v1/cases/", "created_after"),
        ("/api/v1/cases/", "created_before"),
    ]:
        assert "Asia/Shanghai" in described[key], key
    overview = [p for p in schema["paths"] if p.endswith("/analytics/overview/")]
    assert overview
    for name in ("from", "to"):
        assert "Asia/Shanghai" in described[(overview[0], name)]
