"""Pickers for raising a case: areas, templates, departments, staff; masked phones."""

from __future__ import annotations

import pytest
from django.urls import reverse

from grids.choices import AreaLevel
from tests.api.client import case_url, login
from tests.factories import (
    CaseTemplateFactory,
    CategoryFactory,
    DepartmentFactory,
    MembershipFactory,
    TemplateFieldFactory,
    make_area,
)

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.data["results"]]


def test_areas_are_those_i_may_raise_cases_for(world):
    url = reverse("api:area-list")
    assert names(login(world.official).get(url)) == ["曙光村"]
    commander = login(world.commander).get(url)
    assert names(commander) == ["曙光村", "华严村"]
    first = commander.data["results"][0]
    assert first["grid"]["name"] == "南桥第一网格" and first["town"]["name"] == "南桥镇"
    assert names(login(world.commander).get(url, {"q": "华严"})) == ["华严村"]
    for nobody in (world.staff_a, world.leader, world.stranger):
        assert names(login(nobody).get(url)) == []


def test_templates_carry_their_form_departments_and_limits(world):
    CaseTemplateFactory(
        code="old", name="停用模板", category=world.template.category, is_active=False
    )
    data = login(world.official).get(reverse("api:template-list")).data["results"]
    assert [t["name"] for t in data] == ["占道经营"]
    template = data[0]
    assert [d["name"] for d in template["default_departments"]] == ["城管执法局"]
    assert [(f["key"], f["kind"]) for f in template["fields"]] == [
        ("stall_count", "number"),
        ("goods", "choice"),
    ]
    assert template["fields"][1]["choices"] == ["果蔬", "熟食", "其他"]
    assert template["handling_limit_hours"] == 72  # normal priority's limit: none of its own
    assert template["response_limit_minutes"] == 30


def test_templates_filter_by_category_and_refuse_a_malformed_one(world):
    other = CaseTemplateFactory(code="flood", name="积水", category=CategoryFactory(name="防汛"))
    client = login(world.official)
    url = reverse("api:template-list")
    assert names(client.get(url, {"category": other.category_id})) == ["积水"]
    bad = client.get(url, {"category": "x"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"


def test_departments_serving_a_community(world):
    elsewhere = make_area(AreaLevel.TOWN, world.district, code="310120102", name="奉城镇")
    town_dept = DepartmentFactory(code="FC", name="奉城镇城运中心", level="town", town=elsewhere)
    town_dept.served_areas.add(elsewhere)
    client = login(world.official)
    url = reverse("api:department-list")
    assert set(names(client.get(url))) == {"城管执法局", "水务局", "奉城镇城运中心"}
    assert set(names(client.get(url, {"community": world.community.pk}))) == {
        "城管执法局",
        "水务局",
    }
    assert names(client.get(url, {"community": 999999})) == []
    assert names(client.get(url, {"q": "水务"})) == ["水务局"]
    assert client.get(url, {"community": "x"}).status_code == 400


def test_staff_on_duty_searchable_with_masked_phones(world):
    world.staff_a2.memberships.update(on_duty=False)
    url = reverse("api:staff-list")
    official = login(world.official)
    on_duty = official.get(url, {"department": world.dept_a.pk}).data["results"]
    assert [p["name"] for p in on_duty] == ["吴队员"]  # 郑队员 is off duty
    phone = world.staff_a.memberships.get().phone
    assert on_duty[0]["phone"] == f"{phone[:3]}****{phone[-4:]}"
    assert names(official.get(url, {"q": "冯"})) == ["冯科员"]
    admin_view = login(world.sysadmin).get(url, {"department": world.dept_a.pk}).data
    assert admin_view["results"][0]["phone"] == phone


def test_the_cases_own_people_see_each_others_phones(world, case_in):
    case = case_in("in_progress", invite=("staff_a",))
    phone = world.staff_a.memberships.get().phone
    masked = f"{phone[:3]}****{phone[-4:]}"

    def seen_by(user) -> str:
        return login(user).get(case_url(case)).data["invitations"][0]["phone"]

    assert seen_by(world.official) == phone  # the caller
    assert seen_by(world.commander) == phone
    assert seen_by(world.staff_a) == phone  # the invited person
    assert seen_by(world.head_a) == masked  # sees the case, does not work it
    assert seen_by(world.auditor) == masked
    assert seen_by(world.leader) == masked


def test_ratings_of_one_case_are_for_its_caller_and_auditors(world, case_in):
    case = case_in("closed")
    url = case_url(case, "ratings")
    for reader in (world.official, world.auditor):
        ratings = login(reader).get(url)
        assert ratings.status_code == 200 and len(ratings.data) == 2
        assert all("rater" not in r and "caller" not in r for r in ratings.data)
    for refused in (world.commander, world.head_a, world.staff_a, world.leader):
        response = login(refused).get(url)
        assert response.status_code == 403, refused
        assert response.json()["error"]["code"] == "permission_denied"
    assert login(world.other_official).get(url).status_code == 404


def _more_rows(world) -> None:
    """Enough rows for every picker that a page of 100 differs from a page of 1."""
    for n in range(5):
        make_area(AreaLevel.COMMUNITY, world.grid, code=f"310120101{n + 10:03d}", name=f"新村{n}")
        dept = DepartmentFactory(code=f"X{n}", name=f"部门{n}")
        dept.served_areas.add(world.district)
        MembershipFactory(department=dept)
        template = CaseTemplateFactory(code=f"t{n}", name=f"模板{n}", category=CategoryFactory())
        template.default_departments.add(dept, world.dept_b)
        TemplateFieldFactory(template=template, key="note", label="说明")


@pytest.mark.parametrize("page_size", [1, 100])
@pytest.mark.parametrize(
    ("route", "params", "max_queries"),
    [
        # Every count: the user, the page count, the page, plus what the row needs.
        ("api:area-list", {}, 4),  # + the asker's roles
        ("api:template-list", {}, 5),  # + fields, + default departments
        ("api:department-list", {}, 3),
        ("api:department-list", {"community": "community"}, 4),  # + the community
        # + the asker's roles, direct and group permissions (may they see phones whole?)
        ("api:staff-list", {}, 6),
    ],
)
def test_picker_lists_cost_a_fixed_number_of_queries(
    world, page_size, route, params, max_queries, django_assert_max_num_queries
):
    _more_rows(world)
    params = {k: world.community.pk if v == "community" else v for k, v in params.items()}
    client = login(world.commander)
    with django_assert_max_num_queries(max_queries):
        response = client.get(reverse(route), {**params, "page_size": page_size})
    assert response.status_code == 200
    assert len(response.data["results"]) == (1 if page_size == 1 else response.data["count"])
    assert response.data["count"] > 1
