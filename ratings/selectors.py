"""Every figure of ratings anyone but an auditor sees: fixed monthly sums, K or more each.

The one rule (docs/security.md, "Anonymous ratings"):

- Ratings are published per **department and calendar month** (Asia/Shanghai)
  and nothing finer: a month is published only after it has ended, once, and
  its sums are then frozen (``PublishedMonth`` / ``MonthFigure``, written by
  ``ratings.services.publish_month``).
- A department-month with fewer than ``JINSHAO_RATING_MIN_GROUP`` (K) ratings
  is left out of **every** figure, not only hidden: a year, a window or a
  ranking is the sum of the department-months of K or more it covers. The
  same for each criterion within a department-month.
- A request for any window is widened to the whole published months it
  touches; the month in progress is never in a figure.

So every figure is a sum of disjoint, frozen cells of K or more ratings, and
any difference of two figures is again a sum of such cells (or nothing):
no sequence of requests isolates fewer than K ratings. Per-rating rows
(case, scores, comment) are for auditors and superusers only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from accounts.choices import Role
from accounts.selectors import department_ids, has_role
from ratings.models import Criterion, MonthFigure, PublishedMonth, Rating


def min_group() -> int:
    """K: the fewest ratings any published figure rests on (at least 2)."""
    return max(2, int(getattr(settings, "JINSHAO_RATING_MIN_GROUP", 5)))


def can_read_rating_rows(user) -> bool:
    """Per-rating rows (case, scores, comment): auditors and superusers only."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or has_role(user, Role.AUDITOR))
    )


def can_read_department_ratings(user, department) -> bool:
    """The department's own people, leaders, auditors and superusers."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.is_superuser or has_role(user, [Role.AUDITOR, Role.LEADER]):
        return True
    return department.pk in department_ids(user, [Role.STAFF, Role.DEPARTMENT_HEAD])


# ---------------------------------------------------------------- months


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """``[start, end)`` of the calendar month holding ``month``, local midnight to midnight."""
    zone = local_zone()
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return (
        datetime(first.year, first.month, 1, tzinfo=zone),
        datetime(following.year, following.month, 1, tzinfo=zone),
    )


def has_ended(month: date) -> bool:
    """True once the whole month lies in the past."""
    return month_bounds(month)[1] <= timezone.now()


def months_touching(first: date, last: date) -> list[date]:
    """First days of the calendar months that overlap ``first``…``last`` (inclusive)."""
    months = []
    month = first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def published(months: Iterable[date]) -> list[date]:
    """Of ``months``, those whose figures are published (publishing ended ones now).

    Months before the first rating ever given hold none: they count as
    published without a row being written, so asking for the year 1900 costs
    no writes.
    """
    from ratings.services import publish_month

    ended = [m for m in months if has_ended(m)]
    first = Rating.objects.order_by("created_at").values_list("created_at", flat=True).first()
    if first is None:
        return ended
    first_month = timezone.localtime(first, local_zone()).date().replace(day=1)
    # One read for the months published already (a year's overview asked one per month).
    done = set(PublishedMonth.objects.filter(month__in=ended).values_list("month", flat=True))
    return [m if m < first_month or m in done else publish_month(m).month for m in ended]


# ---------------------------------------------------------------- figures


@dataclass(frozen=True)
class RatingFigures:
    """Means over the K-or-more cells combined: ``count`` ratings behind ``overall``.

    ``criteria`` maps a criterion id to its mean (only criteria with K or more
    scores in a cell are counted). ``count == 0``: nothing may be shown.
    """

    count: int = 0
    overall: Decimal | None = None
    criteria: dict[int, Decimal] = field(default_factory=dict)

    @property
    def withheld(self) -> bool:
        return self.count == 0


def _round(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def uniform(cell: MonthFigure) -> bool:
    """Whether every rating of ``cell`` carries a score for every criterion the cell has.

    A criterion switched on or off during the month leaves some ratings without
    it; their overall is then a different mean of the other criteria, and the
    cell's overall and criterion means together would be equations with the
    odd ratings as the unknowns (with one odd rating, its score exactly). Such
    a cell gives its overall (a mean of K or more ratings) and no criterion mean.
    """
    return all(part["n"] == cell.count for part in cell.scores.values())


def combine(cells: Iterable[MonthFigure], k: int | None = None) -> RatingFigures:
    """The figures of ``cells`` taken together, leaving out every cell under K.

    Criterion means come only from cells whose ratings all carry every
    criterion (``uniform``), so each figure is over whole cells of K or more.
    """
    k = min_group() if k is None else k
    count, overall = 0, Decimal(0)
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for cell in cells:
        if cell.count < k:
            continue
        count += cell.count
        overall += cell.overall_sum
        if not uniform(cell):
            continue
        for criterion_id, part in cell.scores.items():
            sums[int(criterion_id)][0] += part["sum"]
            sums[int(criterion_id)][1] += part["n"]
    if not count:
        return RatingFigures()
    return RatingFigures(
        count=count,
        overall=_round(overall / count),
        criteria={c: _round(Decimal(total) / n) for c, (total, n) in sums.items()},
    )


def department_figures(first: date, last: date) -> tuple[list[date], dict[int, RatingFigures]]:
    """Per department, its figures over the published months touching ``first``…``last``.

    Returns ``(months used, {department id: figures})``; a department none of
    whose months reaches K is absent.
    """
    months = published(months_touching(first, last))
    cells: dict[int, list[MonthFigure]] = defaultdict(list)
    for cell in MonthFigure.objects.filter(month__in=months):
        cells[cell.department_id].append(cell)
    figures = {dept: combine(rows) for dept, rows in cells.items()}
    return months, {dept: f for dept, f in figures.items() if not f.withheld}


def district_figures(first: date, last: date) -> tuple[list[date], RatingFigures]:
    """The whole district's figures: the same cells as ``department_figures``, added up."""
    months = published(months_touching(first, last))
    return months, combine(MonthFigure.objects.filter(month__in=months))


def rated_counts(months: list[date]) -> dict[int, int]:
    """Per department, all its ratings in the published ``months`` (counts reveal no score)."""
    counts: dict[int, int] = defaultdict(int)
    for dept, n in MonthFigure.objects.filter(month__in=months).values_list(
        "department_id", "count"
    ):
        counts[dept] += n
    return counts


# ---------------------------------------------------------------- a department's year


def department_year(department, year: int) -> dict:
    """Monthly rating figures of ``department`` for calendar ``year``, and the year's.

    Shape: ``{department, year, min_group, count, withheld, overall, criteria,
    months: [{month, published, count, withheld, overall, criteria}]}``. A month
    is ``published`` once it has ended; its ``count`` is every rating in it,
    its means are shown only for K or more. The year's figures are those of
    its shown months added up (``count``: the ratings behind them), so the
    year minus the shown months is always nothing.
    """
    k = min_group()
    done = set(published(date(year, m, 1) for m in range(1, 13)))
    cells = {
        cell.month_id.month: cell
        for cell in MonthFigure.objects.filter(department=department, month__in=done)
    }
    criteria = list(Criterion.objects.order_by("position", "code"))

    def shape(figures: RatingFigures) -> dict:
        return {
            "withheld": figures.withheld,
            "overall": figures.overall,
            "criteria": [
                {"code": c.code, "name": c.name, "mean": figures.criteria.get(c.pk)}
                for c in criteria
                if c.pk in figures.criteria or c.is_active
            ],
        }

    months = []
    for number in range(1, 13):
        cell = cells.get(number)
        months.append(
            {
                "month": number,
                "published": date(year, number, 1) in done,
                "count": cell.count if cell else 0,
                **shape(combine([cell] if cell else [], k)),
            }
        )
    whole = combine(cells.values(), k)
    return {
        "department": department,
        "year": year,
        "min_group": k,
        "count": whole.count,
        **shape(whole),
        "months": months,
    }
