"""Writing the daily figures (analytics.models) and keeping them fresh.

Any save or delete of a case or invitation marks its case's day (the day it
was raised, local time) stale: ``mark_stale`` writes a new random token into
the day's mark row, in the writer's own transaction. The rebuild runs off the
request path (``analytics.tasks.refresh_stale_days``: scheduled when a marking
transaction commits, and by beat; in-process and eager in the embedded
default). It reads each mark's token, recomputes the day and deletes the mark
only if its token is unchanged (compare-and-delete), so a write that lands
while its day is being rebuilt keeps its mark and the day is rebuilt again.
Readers never rebuild: an indicator whose period holds a stale day is read
live from the cases (``analytics.selectors.uses_daily``), so no reader sees
figures older than the data.
Bulk writers that skip signals (``seed_demo``) call ``mark_stale`` or
``refresh_all`` themselves; ``manage.py analytics_refresh`` rebuilds everything.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics.functions import Seconds
from analytics.maps import DENSITY_CELL, cell_index
from analytics.models import (
    CaseDay,
    CellDay,
    DeclineDay,
    DepartmentDay,
    StaleDay,
    TemplateDay,
    TimeDay,
)
from analytics.selectors import DEPARTMENT_HANDLING, HANDLING, RESPONSE, TIMES, time_bin
from cases.choices import CaseState, InvitationState
from cases.models import Case, Invitation
from core.dates import local_day_bounds

#: No rating figure is kept by day: ratings are published by ended month only
#: (``ratings.selectors``), so nothing here can be subtracted to isolate one.
FACTS = (CaseDay, TimeDay, DepartmentDay, DeclineDay, TemplateDay, CellDay)
#: A case's town (its community's grandparent), from a case and from an invitation.
TOWN = "community__parent__parent_id"
INVITATION_TOWN = "case__community__parent__parent_id"
#: Days refreshed per round of queries.
CHUNK_DAYS = 31
#: First key of the PostgreSQL advisory locks that keep two rebuilds off one day.
LOCK_CLASS = 0x4A53
logger = logging.getLogger(__name__)


def day_of(moment: datetime) -> date:
    return timezone.localtime(moment).date()


class _Marked:
    """The on-commit callback of one ``mark_stale``: schedules the rebuild and remembers
    which days this transaction marked. Django drops it with a rolled-back savepoint or
    transaction, so what it remembers is exactly what will commit."""

    def __init__(self, days: set[date]):
        self.days = days

    def __call__(self) -> None:
        schedule_refresh()


def _marked_in_this_transaction() -> set[date]:
    if not connection.in_atomic_block:
        return set()
    return {
        day
        for entry in connection.run_on_commit
        if isinstance(callback := entry[1], _Marked)
        for day in callback.days
    }


def _forget_marked(days: Iterable[date]) -> None:
    """A rebuild in this very transaction cleared these days' marks: the next change must
    write them again (tests and ``manage.py`` runs do both in one transaction)."""
    gone = set(days)
    for entry in connection.run_on_commit:
        if isinstance(callback := entry[1], _Marked):
            callback.days -= gone


def mark_stale(days: Iterable[date]) -> None:
    """Mark ``days`` stale, in the caller's transaction, and schedule their rebuild on commit.

    Each day gets a new mark row with a new token (an insert, never an update: no two
    writers wait on one row), so a rebuild that read the marks before will not delete
    it (``refresh_stale``). A day this transaction has already marked (and not rolled
    back) is not written again (a step that saves an invitation and then its case marks
    the day once).
    """
    wanted = set(days) - _marked_in_this_transaction()
    if not wanted:
        return
    StaleDay.objects.bulk_create([StaleDay(day=d, token=uuid.uuid4()) for d in sorted(wanted)])
    transaction.on_commit(_Marked(wanted))


#: The shared-cache key that says a rebuild is queued and has not started yet.
REFRESH_QUEUED_KEY = "analytics:refresh-queued"


def schedule_refresh() -> None:
    """Queue the rebuild task, at most one waiting at a time; never fails the writer.

    With a broker the task runs ``JINSHAO_FIGURES_REBUILD_DELAY_SECONDS`` after the
    first change that queued it, and the changes meanwhile ride on that one run (a key
    in the shared cache says one is queued; that run removes it before it reads the
    marks, so a change after that queues the next run; beat's runs leave it). Before, every write of the
    district queued a rebuild of its whole day, so the worker rebuilt the same day
    several times a second and the cost of a write grew with the day's cases. With
    eager tasks (the embedded default) the rebuild runs at once, as before.
    """
    from analytics.tasks import refresh_stale_days

    delay = settings.JINSHAO_FIGURES_REBUILD_DELAY_SECONDS
    try:
        if settings.CELERY_TASK_ALWAYS_EAGER or delay <= 0:
            refresh_stale_days.delay()
        elif cache.add(REFRESH_QUEUED_KEY, 1, timeout=delay + 600):
            refresh_stale_days.apply_async(kwargs={"queued": True}, countdown=delay)
    except Exception:  # the beat runs it again within a minute
        logger.exception("analytics.refresh_not_scheduled")
        try:
            cache.delete(REFRESH_QUEUED_KEY)  # nothing is queued: let the next change try
        except Exception:
            logger.exception("analytics.refresh_key_not_cleared")


def refresh_stale() -> int:
    """Rebuild every stale day no other rebuild holds; returns how many marks were cleared.

    Per chunk of days, in one transaction: take each day's advisory lock
    (PostgreSQL; days another rebuild holds are skipped), recompute the days,
    then delete exactly the marks read before the recomputation. A write
    committed after that read added a mark of its own, which stays for the
    next run.
    """
    tokens: dict[date, list[uuid.UUID]] = {}
    for day, token in StaleDay.objects.order_by("day").values_list("day", "token"):
        tokens.setdefault(day, []).append(token)
    days = list(tokens)
    cleared = 0
    for start in range(0, len(days), CHUNK_DAYS):
        chunk = days[start : start + CHUNK_DAYS]
        with transaction.atomic():
            if not _hold_rebuilds(exclusive=False):
                break  # a full rebuild runs: it rebuilds these days too, the marks stay
            held = [day for day in chunk if _lock_day(day)]
            if not held:
                continue
            refresh(held)
            for day in held:
                cleared += StaleDay.objects.filter(day=day, token__in=tokens[day]).delete()[0]
        _forget_marked(held)
    return cleared


def _advisory_lock(key: int, item: int, *, wait: bool, shared: bool = False) -> bool:
    """Take the PostgreSQL advisory lock ``(key, item)`` until this transaction ends:
    waiting for it (``wait``; then True) or trying it once (whether it was free),
    exclusive or ``shared``. SQLite serialises writers already: always True there."""
    if connection.vendor != "postgresql":
        return True
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}{'_shared' if shared else ''}(%s, %s)", [key, item])
        return wait or bool(cursor.fetchone()[0])


def _lock_day(day: date) -> bool:
    """Hold ``day`` for this transaction, if no other rebuild holds it."""
    return _advisory_lock(LOCK_CLASS, day.toordinal(), wait=False)


def _hold_rebuilds(*, exclusive: bool) -> bool:
    """The rebuilds' shared lock (PostgreSQL advisory, held to the commit).

    ``refresh_stale`` tries it shared for each chunk of days and gives up when it is
    held exclusively; ``refresh_all`` waits for it exclusively, so it never runs beside
    a chunk: both delete and insert the same rows and take month locks, and side by side
    they could each wait on the other's rows (a deadlock that lost the full rebuild) or
    insert the same day twice."""
    return _advisory_lock(LOCK_CLASS + 2, 0, wait=exclusive, shared=not exclusive)


def stale_in(first: date, last: date) -> bool:
    """Whether any day between ``first`` and ``last`` waits for its rebuild."""
    return StaleDay.objects.filter(day__range=(first, last)).exists()


def days_raised(cases) -> set[date]:
    """The local days on which ``cases`` (a queryset of cases) were raised."""
    tz = timezone.get_current_timezone()
    return set(
        cases.annotate(d=TruncDate("created_at", tzinfo=tz))
        .values_list("d", flat=True)
        .distinct()
        .order_by()
    )


def refresh_all() -> int:
    """Rebuild every day's figures; returns how many days have cases."""
    days = sorted(days_raised(Case.objects.all()))
    marks = list(StaleDay.objects.values_list("pk", "day"))
    with transaction.atomic():
        _hold_rebuilds(exclusive=True)
        for model in FACTS:
            model.objects.all().delete()
        refresh(days, clear=False)
        # Only the marks read before: as refresh_stale, a later one stays.
        StaleDay.objects.filter(pk__in=[pk for pk, _ in marks]).delete()
    _forget_marked(day for _, day in marks)
    return len(days)


def refresh(days: Iterable[date], *, clear: bool = True) -> None:
    """Recompute the day rows of ``days`` and the roll-ups of their months, in one
    transaction per chunk of days (a month's roll-up always with its days' rows)."""
    days = sorted(set(days))
    for start in range(0, len(days), CHUNK_DAYS):
        chunk = days[start : start + CHUNK_DAYS]
        with transaction.atomic():
            if clear:
                for model in FACTS:
                    model.objects.filter(whole_month=False, day__in=chunk).delete()
            _write(chunk)
            roll_up({d.replace(day=1) for d in chunk})


def month_end(month: date) -> date:
    """The last day of the month that starts on ``month``."""
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def roll_up(months: Iterable[date]) -> None:
    """Rewrite each month's roll-up rows (``DailyFigure.whole_month``) from its day rows.

    ``months``: first days of months. Per month, oldest first, in the caller's
    transaction: wait for the month's advisory lock (PostgreSQL; held to the
    commit, so two rebuilds of days of one month roll it up one after the other,
    the second reading the first's committed day rows), delete the month's rows and
    insert the sums of its day rows grouped by the model's ``KEYS``, one
    ``INSERT … SELECT`` per model.
    """
    quote = connection.ops.quote_name
    for month in sorted(set(months)):
        _lock_month(month)
        for model in FACTS:
            model.objects.filter(whole_month=True, day=month).delete()
            columns = {f.attname: str(f.column) for f in model._meta.concrete_fields}
            keys = [quote(columns[k]) for k in model.KEYS]
            sums = [quote(columns[f]) for f in model.sum_fields()]
            table = quote(model._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} ({quote('day')}, {quote('whole_month')}, "
                    f"{', '.join(keys + sums)}) "
                    f"SELECT %s, %s, {', '.join(keys + [f'SUM({c})' for c in sums])} "
                    f"FROM {table} WHERE {quote('whole_month')} = %s "
                    f"AND {quote('day')} BETWEEN %s AND %s GROUP BY {', '.join(keys)}",
                    [month, True, False, month, month_end(month)],
                )


def _lock_month(month: date) -> None:
    """Wait for, then hold to the commit, the month's roll-up lock."""
    _advisory_lock(LOCK_CLASS + 1, month.toordinal(), wait=True)


def _cases_of_days(days: list[date], area_path: str | None = None):
    """The raised cases of ``days`` (local days; drafts left out), annotated with ``fact_day``;
    only those under ``area_path`` when given."""
    tz = timezone.get_current_timezone()
    start, end = local_day_bounds(days[0], days[-1])
    cases = (
        Case.objects.filter(created_at__gte=start, created_at__lt=end)
        .exclude(state=CaseState.DRAFT)
        .annotate(fact_day=TruncDate("created_at", tzinfo=tz))
        .filter(fact_day__in=days)
    )
    if area_path is not None:
        from grids.models import Area

        cases = cases.filter(
            community__in=Area.objects.filter(path__startswith=area_path).values("pk")
        )
    return cases


def _write(days: list[date]) -> None:
    tz = timezone.get_current_timezone()
    cases = _cases_of_days(days)
    case_ids = cases.values("pk")
    CaseDay.objects.bulk_create(_case_rows(cases, case_ids, tz), batch_size=2000)
    TimeDay.objects.bulk_create(_time_rows(cases), batch_size=2000)
    departments, declines = _department_rows(cases, case_ids, tz)
    DepartmentDay.objects.bulk_create(departments, batch_size=2000)
    DeclineDay.objects.bulk_create(declines, batch_size=2000)
    TemplateDay.objects.bulk_create(_template_rows(cases, case_ids, tz), batch_size=2000)
    CellDay.objects.bulk_create(_cell_rows(cases), batch_size=2000)


def rows_for(model, days: Iterable[date], area_path: str | None = None) -> list:
    """The rows of ``model`` (one of ``FACTS``) that ``days`` would have once rebuilt,
    computed now from the cases and not saved: what a reader adds up for days still
    waiting for their rebuild (``analytics.selectors.summed``). ``area_path``: only
    the cases under that area (a town's rows belong to it whole, so they are the
    same rows as the saved ones would be, filtered by town).
    """
    days = sorted(set(days))
    if not days:
        return []
    tz = timezone.get_current_timezone()
    cases = _cases_of_days(days, area_path)
    case_ids = cases.values("pk")
    if model is CaseDay:
        return _case_rows(cases, case_ids, tz)
    if model is TimeDay:
        return _time_rows(cases)
    if model is DepartmentDay:
        return _department_rows(cases, case_ids, tz)[0]
    if model is DeclineDay:
        return _department_rows(cases, case_ids, tz, declines_only=True)[1]
    if model is TemplateDay:
        return _template_rows(cases, case_ids, tz)
    if model is CellDay:
        return _cell_rows(cases)
    raise ValueError(f"not a daily figure: {model!r}")


def _case_rows(cases, case_ids, tz) -> list[CaseDay]:
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
    return list(rows.values())


def _time_rows(cases) -> list[TimeDay]:
    """Per day, town and time (``selectors.TIMES``): the cases whose time falls in each bin
    (``selectors.time_bin``); cases without the time (not yet accepted, completed) left out."""
    town = TOWN
    rows = []
    for time, expression in TIMES.items():
        for r in (
            cases.annotate(_t=expression)
            .filter(_t__isnull=False)
            .annotate(start=time_bin(F("_t")))
            .values("fact_day", town, "start")
            .annotate(n=Count("*"))
            .order_by()
        ):
            rows.append(
                TimeDay(
                    day=r["fact_day"],
                    town_id=r[town],
                    time=time,
                    start=r["start"],
                    cases=r["n"],
                )
            )
    return rows


def _department_rows(
    cases, case_ids, tz, *, declines_only: bool = False
) -> tuple[list[DepartmentDay], list[DeclineDay]]:
    day = TruncDate("case__created_at", tzinfo=tz)
    town = INVITATION_TOWN
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
    counted = invitations.none() if declines_only else invitations
    for r in counted.values("fact_day", town, "department_id").annotate(
        invited=Count("pk"),
        cases=Count("case_id", distinct=True),
        accepted=Count("pk", filter=accepted),
        declined=Count("pk", filter=Q(state=InvitationState.DECLINED)),
        returned=Count("pk", filter=Q(state=InvitationState.RETURNED)),
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
            returned=r["returned"],
            response_sum=r["response_sum"] or 0,
            response_n=r["response_n"],
            handling_sum=r["handling_sum"] or 0,
            handling_n=r["handling_n"],
            overdue_done=r["overdue_done"],
            multi_department=r["multi_department"],
        )
    declines = [
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
    ]
    return list(rows.values()), declines


def _template_rows(cases, case_ids, tz) -> list[TemplateDay]:
    town = TOWN
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
    inv_town = INVITATION_TOWN
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
    return rows


def _cell_rows(cases) -> list[CellDay]:
    """Per day, town, category and density cell (``maps.DENSITY_CELL``): the located cases
    (those with a longitude, as the live density counts them; ``y`` None without a
    latitude). The days are ``cases``' ``fact_day``."""
    town = TOWN
    return [
        CellDay(
            day=r["fact_day"],
            town_id=r[town],
            category_id=r["category_id"],
            x=int(r["x"]),
            y=None if r["y"] is None else int(r["y"]),
            cases=r["n"],
        )
        for r in cases.filter(longitude__isnull=False)
        .annotate(x=cell_index("longitude", DENSITY_CELL), y=cell_index("latitude", DENSITY_CELL))
        .values("fact_day", town, "category_id", "x", "y")
        .annotate(n=Count("pk"))
        .order_by()
    ]
