"""The attacker's side of 匿名评价: no non-auditor recovers one rating, whatever they ask.

Each test holds an ordinary role (commander, grid leader, leader, department
head or staff, system administrator), reads every rating figure it is allowed
to, and works out candidate scores the way an attacker would:

- a figure over one rating *is* that rating;
- two figures whose rating counts differ by one give the extra rating by
  subtraction (``n2·mean2 − n1·mean1``), for the overall score and each
  criterion.

A figure's count is the one the response states; where it states none, the
attacker counts the ratings from what it can see of the cases (the cases in
its area and their timelines, which say when each department was rated).
The test fails when any candidate lies within 1 point of a real rating's
score (overall or any criterion).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import combinations
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.facts import refresh_all
from cases.models import Case
from ratings.models import Rating
from tests.api.client import as_user, case_url

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Seven ratings of 城管执法局 in March 2025, one a day from the 3rd: (result, conduct).
HISTORY = [(12, 88), (27, 35), (41, 70), (56, 21), (63, 94), (78, 50), (99, 66)]


@dataclass
class Figure:
    """A mean of ratings as published, and the number of ratings behind it."""

    source: str
    count: int | None
    overall: float | None
    criteria: dict[str, float | None] = field(default_factory=dict)


# ---------------------------------------------------------------- the world's ratings


def _set_scores(rating: Rating, result: int, conduct: int, when: datetime) -> None:
    rating.scores.filter(criterion__code="result").update(score=result)
    rating.scores.filter(criterion__code="conduct").update(score=conduct)
    Rating.objects.filter(pk=rating.pk).update(
        overall=Decimal(result + conduct) / 2, created_at=when
    )


def march_history(world, case_in) -> None:
    """HISTORY rated in March 2025; the last case is in 华严村, the others in 曙光村."""
    for day, (result, conduct) in enumerate(HISTORY, start=3):
        case = case_in("closed", invite=("staff_a",))
        raised = datetime(2025, 3, day, 9, tzinfo=SHANGHAI)
        community = world.other_community if day == 9 else world.community
        Case.objects.filter(pk=case.pk).update(created_at=raised, community=community)
        rating = Rating.objects.get(case=case)
        _set_scores(rating, result, conduct, raised + timedelta(hours=8))
    refresh_all()  # the raw updates above skip the signals that keep daily figures fresh


def real_scores() -> list[dict[str, float]]:
    out = []
    for rating in Rating.objects.prefetch_related("scores__criterion"):
        scores = {s.criterion.code: float(s.score) for s in rating.scores.all()}
        out.append({"overall": float(rating.overall), **scores})
    return out


def seen_count(area, first: date, last: date) -> int:
    """What the attacker counts from the case list and timelines of its area."""
    cases = Case.objects.filter(
        created_at__gte=datetime.combine(first, datetime.min.time(), SHANGHAI),
        created_at__lt=datetime.combine(last + timedelta(days=1), datetime.min.time(), SHANGHAI),
    )
    if area is not None:
        cases = cases.filter(community__path__startswith=area.path)
    return Rating.objects.filter(case__in=cases).count()


# ---------------------------------------------------------------- reading like an attacker


def _num(value) -> float | None:
    return None if value in (None, "") else float(value)


def overview(user, first: date, last: date, area=None) -> list[Figure]:
    params = {"from": first, "to": last, **({"area": area.pk} if area else {})}
    response = as_user(user).get(reverse("api:analytics-overview"), params)
    if response.status_code != 200:
        return []
    data = response.json()["data"]
    asked = area if area is not None else _default_area(user)
    count = data.get("rating_count", seen_count(asked, first, last))
    return [Figure(f"overview {asked} {first}…{last}", count, _num(data["rating_mean"]))]


def _default_area(user):
    from accounts.selectors import area_paths
    from analytics.scope import AREA_ROLES
    from grids.models import Area

    own = sorted(area_paths(user, AREA_ROLES), key=len)
    return Area.objects.get(path=own[0]) if own else None


def ranking(user, first: date, last: date, area=None) -> list[Figure]:
    params = {"from": first, "to": last, **({"area": area.pk} if area else {})}
    response = as_user(user).get(reverse("api:analytics-departments"), params)
    if response.status_code != 200:
        return []
    return [
        Figure(
            f"ranking {row['name']} {area} {first}…{last}",
            row.get("ratings_in_mean", row["ratings"]),
            _num(row["rating_mean"]),
            {code: _num(mean) for code, mean in row["criteria"].items()},
        )
        for row in response.json()["data"]
    ]


def department_year(user, department, year: int) -> list[Figure]:
    url = reverse("api:department-ratings", args=[department.pk])
    response = as_user(user).get(url, {"year": year})
    if response.status_code != 200:
        return []
    data = response.json()

    def figure(name, part):
        means = {c["code"]: _num(c["mean"]) for c in part["criteria"]}
        return Figure(f"{department} {name}", part["count"], _num(part["overall"]), means)

    return [figure(year, data)] + [figure(f"{year}-{m['month']}", m) for m in data["months"]]


def export_rows(user, first: date, last: date) -> list[Figure]:
    """The ratings export, as far as it answers: every row one rating."""
    url = reverse("api:analytics-export", args=["ratings"])
    response = as_user(user).get(url, {"from": first, "to": last, "filetype": "csv"})
    if response.status_code != 200:
        return []
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(body)))
    codes = {"办理结果": "result", "工作作风": "conduct"}
    return [
        Figure(
            f"export row {row[0]}",
            1,
            _num(row[2]),
            {
                codes[name]: _num(value)
                for name, value in zip(header, row, strict=True)
                if name in codes
            },
        )
        for row in rows
    ]


# ---------------------------------------------------------------- the attacker's arithmetic


def candidates(figures: list[Figure]) -> list[tuple[str, dict[str, float]]]:
    """Every single rating the figures give away: figures over one, differences of one."""
    found = []
    for f in figures:
        if f.count == 1 and f.overall is not None:
            parts = {"overall": f.overall, **{k: v for k, v in f.criteria.items() if v is not None}}
            found.append((f.source, parts))
    for a, b in combinations(figures, 2):
        if None in (a.count, b.count, a.overall, b.overall):
            continue
        small, big = (a, b) if a.count <= b.count else (b, a)  # type: ignore[operator]
        if big.count - small.count != 1:  # type: ignore[operator]
            continue
        parts = {"overall": big.count * big.overall - small.count * small.overall}  # type: ignore[operator]
        for code, mean in big.criteria.items():
            other = small.criteria.get(code)
            if mean is not None and other is not None:
                parts[code] = big.count * mean - small.count * other  # type: ignore[operator]
        found.append((f"{big.source} − {small.source}", parts))
    return found


def assert_no_rating_recovered(figures: list[Figure]) -> None:
    truth = real_scores()
    leaks = [
        (source, parts, real)
        for source, parts in candidates(figures)
        for real in truth
        if any(abs(value - real[key]) <= 1 for key, value in parts.items() if key in real)
    ]
    assert not leaks, f"{len(leaks)} ratings recovered, e.g. {leaks[:3]}"


ATTACKERS = ("commander", "grid_leader", "leader", "sysadmin", "head_a", "staff_a")


# ---------------------------------------------------------------- the attacks


def test_the_ratings_export_answers_auditors_only(world, case_in):
    march_history(world, case_in)
    first, last = date(2025, 3, 1), date(2025, 3, 31)
    for name in ATTACKERS:
        user = getattr(world, name)
        response = as_user(user).get(
            reverse("api:analytics-export", args=["ratings"]),
            {"from": first, "to": last, "filetype": "csv"},
        )
        assert response.status_code in (403, 404), name
        assert_no_rating_recovered(export_rows(user, first, last))
    assert len(export_rows(world.auditor, first, last)) == len(HISTORY)  # auditors: row by row


def test_windows_a_day_apart_give_nothing_away(world, case_in):
    march_history(world, case_in)
    march = date(2025, 3, 1)
    windows = [(march, march + timedelta(days=d)) for d in range(1, 10)]
    windows += [(march + timedelta(days=d), march + timedelta(days=d)) for d in range(2, 9)]
    windows += [(date(2025, 2, 20), date(2025, 3, 31)), (date(2025, 2, 20), date(2025, 4, 1))]
    for name in ("commander", "grid_leader", "leader", "sysadmin"):
        user = getattr(world, name)
        figures: list[Figure] = []
        for first, last in windows:
            figures += overview(user, first, last) + ranking(user, first, last)
        assert figures, name
        assert_no_rating_recovered(figures)
    # Enough ratings in a whole ended month are shown: suppression did not just hide everything.
    (whole,) = overview(world.sysadmin, march, date(2025, 3, 31))
    assert whole.count == len(HISTORY) and whole.overall is not None


def test_a_parent_area_minus_its_children_gives_nothing_away(world, case_in):
    march_history(world, case_in)
    first, last = date(2025, 3, 1), date(2025, 3, 31)
    areas = (None, world.district, world.town, world.grid, world.community, world.other_community)
    for name in ("commander", "grid_leader", "leader", "sysadmin"):
        user = getattr(world, name)
        figures: list[Figure] = []
        for area in areas:
            figures += overview(user, first, last, area) + ranking(user, first, last, area)
        assert figures, name  # the reads answered: a refusal everywhere proves nothing
        assert_no_rating_recovered(figures)


def _this_month_start() -> datetime:
    today = timezone.localdate()
    return datetime(today.year, today.month, 1, tzinfo=SHANGHAI)


def test_reading_before_and_after_a_case_closes_gives_nothing_away(world, case_in, monkeypatch):
    """Five ratings this month; the attacker reads, the caller rates one more case, it reads
    again, then again after the month ended, then after a late rating is slipped in."""
    start = _this_month_start()
    for result, conduct in HISTORY[:5]:
        rating = Rating.objects.get(case=case_in("closed", invite=("staff_a",)))
        _set_scores(rating, result, conduct, start)
    case = case_in("pending_rating", invite=("staff_a",))
    year, first, last = start.year, start.date(), timezone.localdate()

    def read_everything() -> list[Figure]:
        figures: list[Figure] = []
        for name in ("head_a", "staff_a", "leader"):
            year_figures = department_year(getattr(world, name), world.dept_a, year)
            assert len(year_figures) == 13, name  # the year and its months: the read answered
            figures += year_figures
        for name in ("leader", "sysadmin", "commander"):
            user = getattr(world, name)
            seen = overview(user, first, last)
            assert len(seen) == 1, name
            figures += seen + ranking(user, first, last)
        return figures

    before = read_everything()
    response = as_user(world.official).post(
        case_url(case, "ratings"),
        {"ratings": [{"department": world.dept_a.pk, "scores": {"result": 33, "conduct": 47}}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    after = read_everything()
    assert_no_rating_recovered(before + after)

    later = start + timedelta(days=40)  # the month has ended and is published
    monkeypatch.setattr(timezone, "now", lambda: later)
    ended = read_everything()
    late = Rating.objects.get(case=case_in("closed", invite=("staff_a",)))
    _set_scores(late, 5, 9, start + timedelta(hours=1))  # rated "in" the published month
    frozen = read_everything()
    assert_no_rating_recovered(before + after + ended + frozen)
