"""A department sees how it was rated only in aggregate, over at least K ratings."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from ratings.models import Rating
from tests.api.client import as_user

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def rated_in(case_in, world, month: int, count: int, result: int = 90) -> None:
    """``count`` closed cases whose rating of dept_a falls in ``month`` of 2025."""
    for day in range(1, count + 1):
        case = case_in("closed", invite=("staff_a",))
        rating = Rating.objects.get(case=case, department=world.dept_a)
        rating.scores.filter(criterion__code="result").update(score=result)
        rating.created_at = datetime(2025, month, day, 10, tzinfo=SHANGHAI)
        rating.overall = (result + 90) / 2  # conduct is 90 in every fixture rating
        rating.save(update_fields=["created_at", "overall"])


def year_of(user, world, year=2025):
    url = reverse("api:department-ratings", args=[world.dept_a.pk])
    return as_user(user).get(url, {"year": year})


def test_a_month_with_fewer_than_k_ratings_is_withheld(world, case_in):
    rated_in(case_in, world, month=3, count=4)
    data = year_of(world.head_a, world).data
    march = data["months"][2]
    assert march["count"] == 4 and march["withheld"] and march["overall"] is None
    assert len(march["criteria"]) == 2 and all(c["mean"] is None for c in march["criteria"])
    assert data["withheld"] and data["overall"] is None  # the year is those same four


def test_k_ratings_show_means_and_never_comments(world, case_in):
    rated_in(case_in, world, month=3, count=5, result=80)
    comments = [f"评价留言{n}号：队员态度粗暴" for n in range(5)]
    for rating, comment in zip(Rating.objects.order_by("pk"), comments, strict=True):
        Rating.objects.filter(pk=rating.pk).update(comment=comment)
    response = year_of(world.staff_a, world)
    assert response.status_code == 200
    march = response.data["months"][2]
    assert march["count"] == 5 and not march["withheld"]
    means = {c["code"]: c["mean"] for c in march["criteria"]}
    assert means == {"result": "80.00", "conduct": "90.00"}
    assert march["overall"] == "85.00"
    for reader in (world.staff_a, world.head_a, world.auditor, world.leader, world.superuser):
        answer = year_of(reader, world)
        assert answer.status_code == 200 and answer.data["months"][2]["count"] == 5, reader
        body = answer.content.decode()
        assert not [c for c in comments if c in body], reader
        assert "队员态度粗暴" not in body and "comment" not in body, reader


def test_the_year_adds_up_only_the_shown_months(world, case_in):
    """A withheld month is left out of the year, so year − shown months reveals nothing."""
    rated_in(case_in, world, month=3, count=5)
    rated_in(case_in, world, month=4, count=1, result=10)
    data = year_of(world.head_a, world).data
    assert not data["months"][2]["withheld"] and data["months"][3]["withheld"]
    assert data["months"][3]["count"] == 1 and data["months"][3]["overall"] is None
    assert data["count"] == 5 and not data["withheld"]
    assert data["overall"] == data["months"][2]["overall"] == "90.00"


def test_who_may_read_a_departments_ratings(world, case_in):
    rated_in(case_in, world, month=3, count=1)
    for allowed in (world.head_a, world.staff_a, world.auditor, world.leader, world.superuser):
        assert year_of(allowed, world).status_code == 200, allowed
    for refused in (world.staff_b, world.official, world.commander, world.stranger):
        response = year_of(refused, world)
        assert response.status_code == 403, refused
        assert response.json()["error"]["code"] == "permission_denied"
    assert year_of(world.head_a, world, year="last").status_code == 400


def test_the_month_in_progress_shows_no_figure_until_it_ends(world, case_in, monkeypatch):
    """Ratings of this month are published only after it ends, then fixed for good."""
    from django.utils import timezone

    today = timezone.localdate()
    for _ in range(6):
        case_in("closed", invite=("staff_a",))  # rated now: this month
    month = year_of(world.head_a, world, year=today.year).data["months"][today.month - 1]
    assert not month["published"] and month["withheld"] and month["overall"] is None
    assert month["count"] == 0

    later = timezone.now() + timedelta(days=40)
    monkeypatch.setattr(timezone, "now", lambda: later)
    month = year_of(world.head_a, world, year=today.year).data["months"][today.month - 1]
    assert month["published"] and month["count"] == 6 and month["overall"] == "92.50"
    case_in("closed", invite=("staff_a",))  # rated "now", in the month already published
    Rating.objects.update(created_at=datetime.combine(today, datetime.min.time(), SHANGHAI))
    again = year_of(world.head_a, world, year=today.year).data["months"][today.month - 1]
    assert again == month


def test_asking_for_long_ago_writes_nothing(world, case_in):
    """Months before the first rating are empty without a row written for each."""
    from ratings.models import PublishedMonth

    rated_in(case_in, world, month=3, count=1)
    assert year_of(world.head_a, world, year=2001).status_code == 200
    assert not PublishedMonth.objects.filter(month__year=2001).exists()
    year_of(world.head_a, world)
    assert PublishedMonth.objects.filter(month__year=2025).count() == 10  # March on
