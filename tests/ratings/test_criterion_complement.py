"""A criterion switched off for part of a month cannot be used to single out a rating.

A department-month of six ratings, one given while ``conduct`` was switched off
(its overall is its ``result`` alone): publishing the overall over six, the
result over six and the conduct over five would give that one rating's result
by ``2·6·overall − 6·result − 5·conduct``. Such a cell shows its overall and no
criterion mean, wherever its figures appear.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from analytics.facts import refresh_all
from cases.models import Case
from ratings.models import Criterion, Rating
from tests.api.client import as_user

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
FULL = [(12, 88), (27, 35), (41, 70), (56, 21), (63, 94)]  # (result, conduct)
LONE_RESULT = 73  # rated while conduct was switched off


def _march_2025(case_in) -> None:
    conduct = Criterion.objects.get(code="conduct")
    for day, (result, score) in enumerate([*FULL, (LONE_RESULT, None)], start=3):
        case = case_in("closed", invite=("staff_a",))
        when = datetime(2025, 3, day, 9, tzinfo=SHANGHAI)
        Case.objects.filter(pk=case.pk).update(created_at=when)
        rating = Rating.objects.get(case=case)
        rating.scores.filter(criterion__code="result").update(score=result)
        if score is None:  # what rate_department stores while conduct is inactive
            rating.scores.filter(criterion=conduct).delete()
            overall = Decimal(result)
        else:
            rating.scores.filter(criterion=conduct).update(score=score)
            overall = Decimal(result + score) / 2
        Rating.objects.filter(pk=rating.pk).update(
            overall=overall, created_at=when + timedelta(hours=8)
        )
    refresh_all()


def _recovered(count: int, overall, result, conduct) -> float | None:
    """The lone rating's result as an attacker computes it, if the figures allow it."""
    if None in (overall, result, conduct):
        return None
    return 2 * count * float(overall) - count * float(result) - (count - 1) * float(conduct)


def test_the_departments_people_cannot_single_out_the_odd_rating(world, case_in, settings):
    settings.JINSHAO_RATING_MIN_GROUP = 5
    _march_2025(case_in)
    url = reverse("api:department-ratings", args=[world.dept_a.pk])
    data = as_user(world.head_a).get(url, {"year": 2025}).json()
    march = data["months"][2]
    means = {c["code"]: c["mean"] for c in march["criteria"]}
    assert march["count"] == 6 and march["overall"] is not None  # the overall is still shown
    assert means.get("result") is None and means.get("conduct") is None
    for figures in (march, data):
        year = {c["code"]: c["mean"] for c in figures["criteria"]}
        guess = _recovered(6, figures["overall"], year.get("result"), year.get("conduct"))
        assert guess is None or abs(guess - LONE_RESULT) > 1


def test_the_ranking_gives_no_criterion_mean_for_that_month(world, case_in, settings):
    settings.JINSHAO_RATING_MIN_GROUP = 5
    _march_2025(case_in)
    response = as_user(world.sysadmin).get(
        reverse("api:analytics-departments"), {"from": date(2025, 3, 1), "to": date(2025, 3, 31)}
    )
    assert response.status_code == 200, response.content
    [row] = [r for r in response.json()["data"] if r["department"] == world.dept_a.pk]
    assert row["ratings_in_mean"] == 6 and row["rating_mean"] is not None
    criteria = row["criteria"] or {}
    guess = _recovered(6, row["rating_mean"], criteria.get("result"), criteria.get("conduct"))
    assert guess is None
