"""When a limit runs out: calendar time, or working time when the calendar is on.

``JINSHAO_WORKING_CALENDAR`` off (the default): a limit is plain elapsed
time. On: a limit under a day counts working minutes inside
``JINSHAO_WORKING_HOURS`` on working days (``24:00`` is the end of the day,
so ``00:00-24:00`` is every minute of a working day); a limit of a day or
more counts whole working days (72 hours → the same time of day three
working days later), the usual reading of 工作日 in government time limits.
Working days are Monday to Friday, corrected by the ``Holiday`` table (days
off, and weekend days worked under 调休).

Every limit counts this way: the response and handling deadlines, and the
escalation graces after them (``escalates_at``), so with the calendar on a
Friday-evening deadline escalates in Monday's working time, not on Saturday.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from core.dates import parse_working_hours

DAY = timedelta(days=1)


def _hours() -> tuple[timedelta, timedelta]:
    """(opening, closing) as offsets from local midnight (checked at start-up)."""
    return parse_working_hours(settings.JINSHAO_WORKING_HOURS)


def _calendar(first: date, days: int) -> dict[date, bool]:
    from cases.models import Holiday

    return dict(
        Holiday.objects.filter(date__gte=first, date__lte=first + timedelta(days=days)).values_list(
            "date", "is_workday"
        )
    )


def is_working_day(day: date, overrides: dict[date, bool]) -> bool:
    if day in overrides:
        return overrides[day]
    return day.weekday() < 5


def due_after(start: datetime, limit: timedelta) -> datetime:
    """The moment ``limit`` runs out when it starts at ``start`` (aware in, aware out)."""
    if not settings.JINSHAO_WORKING_CALENDAR:
        return start + limit
    local = timezone.localtime(start)
    overrides = _calendar(local.date(), 400)
    if limit >= DAY:
        return _after_working_days(local, math.ceil(limit / DAY), overrides)
    return _after_working_minutes(local, limit, overrides)


def escalates_at(deadline: datetime, grace: timedelta) -> datetime:
    """When a missed ``deadline`` is escalated: ``grace`` counted like the deadline was."""
    return due_after(deadline, grace)


def _after_working_days(local: datetime, days: int, overrides: dict[date, bool]) -> datetime:
    day, counted = local.date(), 0
    while counted < days:
        day += DAY
        if is_working_day(day, overrides):
            counted += 1
    return local.replace(year=day.year, month=day.month, day=day.day)


def _midnight(day: date, tz) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()), tz)


def _after_working_minutes(
    local: datetime, limit: timedelta, overrides: dict[date, bool]
) -> datetime:
    opens, closes = _hours()
    tz = local.tzinfo
    left, moment = limit, local
    for _ in range(400):  # at most a year of days
        day = moment.date()
        if is_working_day(day, overrides):
            midnight = _midnight(day, tz)
            day_open, day_close = midnight + opens, midnight + closes
            begin = max(moment, day_open)
            if begin < day_close:
                if begin + left <= day_close:
                    return begin + left
                left -= day_close - begin
        moment = _midnight(day + DAY, tz)
    return local + limit
