"""Every indicator against the figures worked out by hand for the sample (see conftest)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.api.client import as_user

pytestmark = pytest.mark.django_db
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def indicator(user, name, **params):
    response = as_user(user).get(reverse(f"api:analytics-{name}"), {**MARCH, **params})
    assert response.status_code == 200, response.content
    return response.json()["data"]


def test_headline_figures(world, sample, settings):
    settings.JINSHAO_RATING_MIN_GROUP = 2
    data = indicator(world.auditor, "overview")
    # Exact medians (percentile_cont over the cases), at the district level too.
    assert data.pop("response_median") == 1200.0
    assert data.pop("handling_median") == 9600.0
    assert data == {
        "raised": 4,  # the draft was never raised
        "closed": 2,
        "cancelled": 1,
        "closure_rate": 0.6667,  # 2 / (4 − 1)
        "dispatches": 5,
        "response_mean": 1200.0,  # 10, 30, 20 minutes
        "handling_mean": 9600.0,  # 110 and 210 minutes
        "rating_mean": 85.0,  # 90 and 80, March 2026 once it ended
        "rating_count": 2,
        "rating_months": ["2026-03"],
    }


def test_timeliness(world, sample):
    data = indicator(world.auditor, "timeliness")
    assert data["response"]["mean"] == 1200.0 and data["handling"]["mean"] == 9600.0
    approx = pytest.approx
    assert (data["response"]["p50"], data["response"]["p90"]) == (
        approx(1200, rel=0.05),
        approx(1680, rel=0.05),
    )
    assert (data["handling"]["p50"], data["handling"]["p90"]) == (
        approx(9600, rel=0.05),
        approx(12000, rel=0.05),
    )
    assert data["overdue"] == 2  # B finished late, C is open past its deadline
    assert [(d["name"], d["cases"]) for d in data["overdue_by_department"]] == [
        ("城管执法局", 2),
        ("水务局", 1),
    ]


def test_areas(world, sample):
    data = indicator(world.auditor, "areas")
    assert data["total"] == 4
    assert [(t["name"], t["cases"], t["per_1000"]) for t in data["towns"]] == [
        ("南桥镇", 4, 1000.0)
    ]
    assert [(c["name"], c["cases"], c["per_1000"]) for c in data["communities"]] == [
        ("曙光村", 3, 750.0),
        ("华严村", 1, 250.0),
    ]
    assert {(r["category_name"], r["cases"]) for r in data["towns_by_category"]} == {
        ("占道经营", 2),
        ("河道污染", 2),
    }


def test_categories_over_time_and_rising(world, sample):
    data = indicator(world.auditor, "categories", bucket="month")
    assert {(s["period"], s["name"], s["cases"]) for s in data["series"]} == {
        ("2026-03-01", "占道经营", 2),
        ("2026-03-01", "河道污染", 2),
    }
    assert data["rising"] == []  # everything fell in the first half of March
    weekly = indicator(world.auditor, "categories", bucket="week")
    assert {s["period"] for s in weekly["series"]} == {"2026-03-02"}  # a Monday


def test_departments_cooperation_and_ranking(world, sample, settings):
    settings.JINSHAO_RATING_MIN_GROUP = 2
    rows = {r["name"]: r for r in indicator(world.auditor, "departments")}
    a, b = rows["城管执法局"], rows["水务局"]
    assert (a["invited"], a["accepted"], a["declined"], a["acceptance_rate"]) == (3, 3, 0, 1.0)
    assert (a["response_mean"], a["handling_mean"], a["overdue"], a["multi_department"]) == (
        1200.0,
        9600.0,
        2,
        1,
    )
    assert (a["ratings"], a["rating_mean"], a["criteria"]) == (
        2,
        85.0,
        {"result": 80.0, "conduct": 90.0},
    )
    assert (b["invited"], b["accepted"], b["decline_rate"], b["response_mean"]) == (
        2,
        1,
        0.5,
        1500.0,
    )
    assert b["decline_reasons"] == [{"reason": "不属于本部门", "count": 1}]
    assert (a["rank"], a["rank_in_kind"], b["rank"], b["rank_in_kind"]) == (1, 1, 2, 1)


def test_scores_need_k_ratings(world, sample):
    rows = {r["name"]: r for r in indicator(world.auditor, "departments")}
    a = rows["城管执法局"]  # two ratings, K = 5 by default
    assert a["ratings"] == 2 and a["ratings_in_mean"] == 0 and a["scores_withheld"]
    assert a["rating_mean"] is None and set(a["criteria"].values()) == {None}
    headline = indicator(world.auditor, "overview")
    assert (headline["rating_mean"], headline["rating_count"]) == (None, 0)


def test_template_suggestions(world, sample):
    from cases.models import Case

    Case.objects.update(template=None)
    assert indicator(world.auditor, "template-suggestions") == []  # 2 cases a category: too few
    from analytics import selectors

    selectors.SUGGESTION_MIN_CASES, saved = 2, selectors.SUGGESTION_MIN_CASES
    try:
        suggestions = indicator(world.auditor, "template-suggestions")
    finally:
        selectors.SUGGESTION_MIN_CASES = saved
    by_name = {s["name"]: s for s in suggestions if s["kind"] == "new"}
    assert [d["name"] for d in by_name["占道经营"]["departments"]] == ["城管执法局"]
    assert {d["name"] for d in by_name["河道污染"]["departments"]} == {"城管执法局", "水务局"}


@pytest.mark.parametrize(
    ("who", "area", "status"),
    [
        ("auditor", None, 200),
        ("sysadmin", None, 200),
        ("leader", None, 200),  # their town
        ("leader", "district", 403),
        ("commander", "grid", 200),
        ("commander", "town", 403),
        ("grid_leader", "community", 200),
        ("official", None, 403),
        ("staff_a", None, 403),
        ("head_a", None, 403),
        ("stranger", None, 403),
    ],
)
def test_who_sees_which_area(world, sample, who, area, status):
    params = {**MARCH, **({"area": getattr(world, area).pk} if area else {})}
    response = as_user(getattr(world, who)).get(reverse("api:analytics-overview"), params)
    assert response.status_code == status, response.content
    if status == 403:
        assert response.json()["error"]["code"] == "permission_denied"


def test_a_town_leader_sees_their_town_by_default(world, sample):
    body = as_user(world.leader).get(reverse("api:analytics-overview"), MARCH).json()
    assert body["area"]["name"] == "南桥镇" and body["data"]["raised"] == 4
    community = as_user(world.leader).get(
        reverse("api:analytics-overview"), {**MARCH, "area": world.other_community.pk}
    )
    assert community.json()["data"]["raised"] == 1  # B only


def test_bad_parameters_are_refused_clearly(world, sample):
    client = as_user(world.auditor)
    url = reverse("api:analytics-overview")
    for params in (
        {"from": "2026-04-01", "to": "2026-03-01"},
        {"from": "yesterday"},
        {"area": 999999},
        {"from": "2020-01-01", "to": "2026-01-01"},
    ):
        response = client.get(url, params)
        assert response.status_code == 400, params
        assert response.json()["error"]["code"] == "invalid"
    bucket = client.get(reverse("api:analytics-categories"), {"bucket": "year"})
    assert bucket.status_code == 400


def test_templates_whose_defaults_keep_changing_are_flagged(world, sample, client):
    from analytics import selectors
    from cases.models import Case

    Case.objects.update(template=world.template)
    world.template.default_departments.set([world.dept_b])  # yet 城管 takes every case
    selectors.SUGGESTION_MIN_CASES, saved = 2, selectors.SUGGESTION_MIN_CASES
    try:
        suggestions = indicator(world.auditor, "template-suggestions")
    finally:
        selectors.SUGGESTION_MIN_CASES = saved
    (update,) = [s for s in suggestions if s["kind"] == "update"]
    assert update["template"] == world.template.pk and update["cases"] == 4
    assert [d["name"] for d in update["departments"]] == ["城管执法局"]
    assert [d["name"] for d in update["current"]] == ["水务局"]
    client.force_login(world.superuser)
    client.post(
        reverse("analytics-accept-suggestion"),
        {
            "category": update["category"],
            "template": update["template"],
            "departments": [world.dept_a.pk],
        },
    )
    assert list(world.template.default_departments.values_list("name", flat=True)) == ["城管执法局"]


@pytest.mark.parametrize(
    "name", ["overview", "categories", "areas", "timeliness", "departments", "template-suggestions"]
)
def test_daily_figures_give_the_live_numbers(world, sample, settings, name, monkeypatch):
    """The district's indicators from the daily figures equal a full scan of the cases, exactly."""
    from analytics import selectors
    from analytics.facts import refresh_stale
    from analytics.models import StaleDay

    settings.JINSHAO_RATING_MIN_GROUP = 2
    monkeypatch.setattr(selectors, "SUGGESTION_MIN_CASES", 2)
    refresh_stale()  # the task a commit would have run
    assert not StaleDay.objects.exists()
    daily = indicator(world.auditor, name)
    monkeypatch.setattr(selectors, "USE_DAILY", False)
    live = indicator(world.auditor, name)
    assert daily == live


def test_a_change_to_a_case_refreshes_its_day(world, sample):
    from cases.models import Case

    assert indicator(world.auditor, "overview")["closed"] == 2
    c = Case.objects.get(number="T-C")
    Case.objects.filter(pk=c.pk).update(state="closed", completed_at=c.first_accepted_at)
    Case.objects.get(pk=c.pk).save()  # any save marks its day stale (services save too)
    assert indicator(world.auditor, "overview")["closed"] == 3
