"""What department-facing views may show of ratings: aggregates over enough ratings.

A department sees its ratings only as monthly aggregates, and only for months
with at least ``JINSHAO_RATING_MIN_GROUP`` ratings (K, default 5). The periods
are whole calendar months, never arbitrary ranges, so two overlapping queries
cannot be subtracted to isolate one rating; the year's total is withheld too
when it would reveal the withheld months (fewer than K ratings among them).
Comments are free text that can name the caller: they are never shown here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.choices import Role
from accounts.selectors import department_ids, has_role
from ratings.models import Criterion, Rating, Score


def can_read_department_ratings(user, department) -> bool:
    """The department's own people, leaders, auditors and superusers."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.is_superuser or has_role(user, [Role.AUDITOR, Role.LEADER]):
        return True
    return department.pk in department_ids(user, [Role.STAFF, Role.DEPARTMENT_HEAD])


def _round(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def department_year(department, year: int, *, min_group: int | None = None) -> dict:
    """Monthly rating aggregates of ``department`` for calendar ``year`` (K-thresholded)."""
    k = settings.JINSHAO_RATING_MIN_GROUP if min_group is None else min_group
    tz = timezone.get_current_timezone()
    ratings = Rating.objects.filter(
        department=department,
        created_at__gte=datetime(year, 1, 1, tzinfo=tz),
        created_at__lt=datetime(year + 1, 1, 1, tzinfo=tz),
    )
    by_month = {
        row["month"].month: row
        for row in ratings.annotate(month=TruncMonth("created_at", tzinfo=tz))
        .values("month")
        .annotate(count=Count("id"), overall=Avg("overall"))
    }
    criteria = list(Criterion.objects.order_by("position", "code"))
    scores: dict[tuple[int, int], Decimal | None] = {
        (row["month"].month, row["criterion_id"]): row["mean"]
        for row in Score.objects.filter(rating__in=ratings)
        .annotate(month=TruncMonth("rating__created_at", tzinfo=tz))
        .values("month", "criterion_id")
        .annotate(mean=Avg("score"))
    }
    year_scores = dict(
        Score.objects.filter(rating__in=ratings)
        .values("criterion_id")
        .annotate(mean=Avg("score"))
        .values_list("criterion_id", "mean")
    )

    def figures(count: int, overall, means: Mapping[int, Any]) -> dict:
        shown = count >= k
        return {
            "count": count,
            "withheld": not shown,
            "overall": _round(overall) if shown else None,
            "criteria": [
                {"code": c.code, "name": c.name, "mean": _round(means.get(c.pk)) if shown else None}
                for c in criteria
                if c.pk in means or c.is_active
            ],
        }

    months = []
    withheld = 0
    for month in range(1, 13):
        row: Mapping[str, Any] = by_month.get(month, {})
        count = int(row.get("count") or 0)
        means = {c.pk: scores[(month, c.pk)] for c in criteria if (month, c.pk) in scores}
        entry = {"month": month, **figures(count, row.get("overall"), means)}
        if entry["withheld"]:
            withheld += count
        months.append(entry)
    total = sum(m["count"] for m in months)
    overall = ratings.aggregate(overall=Avg("overall"))["overall"]
    year_figures = figures(total, overall, year_scores)
    if 0 < withheld < k:  # the year minus the shown months would reveal the withheld ones
        year_figures.update(withheld=True, overall=None)
        for c in year_figures["criteria"]:
            c["mean"] = None
    return {
        "department": department,
        "year": year,
        "min_group": k,
        **year_figures,
        "months": months,
    }
