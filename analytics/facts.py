"""Writing the daily figures (analytics.models) and keeping them fresh.

Any save or delete of a case or invitation marks its case's day
(the day it was raised, local time) stale. Before an indicator reads a
period, the stale days in it are recomputed, each by a handful of GROUP BY
queries over that day's cases, so the figures are never older than the data.
Bulk writers that skip signals (``seed_demo``) call ``mark_stale`` or
``refresh`` themselves; ``manage.py analytics_refresh`` rebuilds everything.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime

from django.db import transaction
from django.db.models import Count, F, FloatField, Q, Sum, Value
from django.db.models.functions import Floor, Greatest, Ln, TruncDate
from django.utils import timezone

from analytics.functions import Seconds
from analytics.models import (
    CaseDay,
    DeclineDay,
    DepartmentDay,
    StaleDay,
    TemplateDay,
    TimeDay,
)
from analytics.selectors import DEPARTMENT_HANDLING, HANDLING, RESPONSE
from cases.choices import CaseState, InvitationState
from cases.models import Case, Invitation
from core.dates import local_day_bounds

#: No rating figure is kept by day: ratings are published by ended month only
#: (``ratings.selectors``), so nothing here can be subtracted to isolate one.
FACTS = (CaseDay, TimeDay, DepartmentDay, DeclineDay, TemplateDay)
BUCKET_GROWTH = 1.05
#: Days refreshed per round of queries.
CHUNK_DAYS = 31


def day_of(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def mark_stale(days: Iterable[date]) -> None:
    StaleDay.objects.bulk_create([StaleDay(day=d) for d in set(days)], ignore_conflicts=True)


def ensure_fresh(first: date, last: date) -> None:
    """Recompute the stale days between ``first`` and ``last`` (those no one else is doing)."""
    if not StaleDay.objects.filter(day__range=(first, last)).exists():
        return
    with transaction.atomic():
        days = list(
            StaleDay.objects.select_for_update(skip_locked=True)
            .filter(day__range=(first, last))
            .values_list("day", flat=True)
        )
        if days:
            refresh(days)
            StaleDay.objects.filter(day__in=days).delete()


def refresh_all() -> int:
    """Rebuild every day's figures; returns how many days have cases."""
    tz = timezone.get_current_timezone()
    days = sorted(
        set(
            Case.objects.annotate(d=TruncDate("created_at", tzinfo=tz))
            .values_list("d", flat=True)
            .distinct()
        )
    )
    with transaction.atomic():
        for model in FACTS:
            model.objects.all().delete()
        refresh(days, clear=False)
        StaleDay.objects.all().delete()
    return len(days)


def refresh(days: Iterable[date], *, clear: bool = True) -> None:
    days = sorted(set(days))
    for start in range(0, len(days), CHUNK_DAYS):
        chunk = days[start : start + CHUNK_DAYS]
        with transaction.atomic():
            if clear:
                for model in FACTS:
                    model.objects.filter(day__in=chunk).delete()
            _write(chunk)


def _write(days: list[date]) -> None:
    tz = timezone.get_current_timezone()
    start, end = local_day_bounds(days[0], days[-1])
    cases = (
        Case.objects.filter(created_at__gte=start, created_at__lt=end)
        .exclude(state=CaseState.DRAFT)
        .annotate(fact_day=TruncDate("created_at", tzinfo=tz))
        .filter(fact_day__in=days)
    )
    case_ids = cases.values("pk")
    town = "community__parent__parent_id"
    _write_cases(cases, case_ids, tz)
    _write_times(cases, town)
    _write_departments(cases, case_ids, tz)
    _write_templates(cases, case_ids, tz)


def _write_cases(cases, case_ids, tz) -> None:
    rows: dict[tuple, CaseDay] = {}
    for r in cases.values("fact_day", "community_id", "category_id").annotate(
        raised=Count("pk"),
        closed=Count("pk", filter=Q(state=CaseState.CLOSED)),
        cancelled=Count("pk", filter=Q(state=CaseState.CANCELLED)),
        response_sum=Sum(RESPONSE),
        response_n=Count(RESPONSE),
        handling_sum=Sum(HANDLING),
        handling_n=Count(HANDLING),
        overdue_done=Count("pk", filter=Q(deadline__isnull=False, completed_at__gt=F("deadline"))),
    ):
        key = (r["fact_day"], r["community_id"], r["category_id"])
        rows[key] = CaseDay(
            day=r["fact_day"],
            community_id=r["community_id"],
            category_id=r["category_id"],
            raised=r["raised"],
            closed=r["closed"],
            cancelled=r["cancelled"],
            response_sum=r["response_sum"] or 0,
            response_n=r["response_n"],
            handling_sum=r["handling_sum"] or 0,
            handling_n=r["handling_n"],
            overdue_done=r["overdue_done"],
        )
    day = TruncDate("case__created_at", tzinfo=tz)
    for r in (
        Invitation.objects.filter(case__in=case_ids)
        .annotate(fact_day=day)
        .values("fact_day", "case__community_id", "case__category_id")
        .annotate(n=Count("pk"))
    ):
        rows[(r["fact_day"], r["case__community_id"], r["case__category_id"])].dispatches = r["n"]
    CaseDay.objects.bulk_create(rows.values(), batch_size=2000)


def bucket_of(expression):
    """The 5 % bucket of a number of seconds (a second or less: bucket 0)."""
    return Floor(
        Ln(Greatest(expression, Value(1.0), output_field=FloatField()))
        / Value(math.log(BUCKET_GROWTH))
    )


def _write_times(cases, town: str) -> None:
    rows = []
    for measure, expression in (("response", RESPONSE), ("handling", HANDLING)):
        for r in (
            cases.annotate(seconds=expression)
            .filter(seconds__isnull=False)
            .annotate(bucket=bucket_of(F("seconds")))
            .values("fact_day", town, "bucket")
            .annotate(n=Count("pk"))
        ):
            rows.append(
                TimeDay(
                    day=r["fact_day"],
                    town_id=r[town],
                    measure=measure,
                    bucket=int(r["bucket"]),
                    n=r["n"],
                )
            )
    TimeDay.objects.bulk_create(rows, batch_size=2000)


def _write_departments(cases, case_ids, tz) -> None:
    day = TruncDate("case__created_at", tzinfo=tz)
    town = "case__community__parent__parent_id"
    invitations = Invitation.objects.filter(case__in=case_ids).annotate(fact_day=day)
    accepted = Q(state=InvitationState.ACCEPTED)
    multi = (
        cases.annotate(
            accepting=Count(
                "invitations__department",
                filter=Q(invitations__state=InvitationState.ACCEPTED),
                distinct=True,
            )
        )
        .filter(accepting__gte=2)
        .values("pk")
    )
    response = Seconds(F("responded_at"), F("invited_at"))
    handling = DEPARTMENT_HANDLING
    rows: dict[tuple, DepartmentDay] = {}
    for r in invitations.values("fact_day", town, "department_id").annotate(
        invited=Count("pk"),
        cases=Count("case_id", distinct=True),
        accepted=Count("pk", filter=accepted),
        declined=Count("pk", filter=Q(state=InvitationState.DECLINED)),
        response_sum=Sum(response, filter=accepted),
        response_n=Count(response, filter=accepted),
        handling_sum=Sum(handling, filter=accepted),
        handling_n=Count(handling, filter=accepted),
        overdue_done=Count(
            "case_id",
            distinct=True,
            filter=accepted
            & Q(case__deadline__isnull=False, case__completed_at__gt=F("case__deadline")),
        ),
        multi_department=Count("case_id", distinct=True, filter=accepted & Q(case__in=multi)),
    ):
        key = (r["fact_day"], r[town], r["department_id"])
        rows[key] = DepartmentDay(
            day=r["fact_day"],
            town_id=r[town],
            department_id=r["department_id"],
            invited=r["invited"],
            cases=r["cases"],
            accepted=r["accepted"],
            declined=r["declined"],
            response_sum=r["response_sum"] or 0,
            response_n=r["response_n"],
            handling_sum=r["handling_sum"] or 0,
            handling_n=r["handling_n"],
            overdue_done=r["overdue_done"],
            multi_department=r["multi_department"],
        )
    DepartmentDay.objects.bulk_create(rows.values(), batch_size=2000)
    DeclineDay.objects.bulk_create(
        [
            DeclineDay(
                day=r["fact_day"],
                town_id=r[town],
                department_id=r["department_id"],
                reason=r["reason"],
                n=r["n"],
            )
            for r in invitations.filter(state=InvitationState.DECLINED)
            .values("fact_day", town, "department_id", "reason")
            .annotate(n=Count("pk"))
        ],
        batch_size=2000,
    )


def _write_templates(cases, case_ids, tz) -> None:
    town = "community__parent__parent_id"
    rows = [
        TemplateDay(
            day=r["fact_day"],
            town_id=r[town],
            category_id=r["category_id"],
            template_id=r["template_id"],
            department_id=None,
            cases=r["n"],
        )
        for r in cases.values("fact_day", town, "category_id", "template_id").annotate(
            n=Count("pk")
        )
    ]
    inv_town = "case__community__parent__parent_id"
    rows += [
        TemplateDay(
            day=r["fact_day"],
            town_id=r[inv_town],
            category_id=r["case__category_id"],
            template_id=r["case__template_id"],
            department_id=r["department_id"],
            cases=r["n"],
        )
        for r in Invitation.objects.filter(case__in=case_ids, state=InvitationState.ACCEPTED)
        .annotate(fact_day=TruncDate("case__created_at", tzinfo=tz))
        .values("fact_day", inv_town, "case__category_id", "case__template_id", "department_id")
        .annotate(n=Count("case_id", distinct=True))
    ]
    TemplateDay.objects.bulk_create(rows, batch_size=2000)
