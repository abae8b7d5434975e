"""When a limit runs out: calendar time, or working time when the calendar is on.

``JINSHAO_WORKING_CALENDAR`` off (the default): a limit is plain elapsed
time. On: a limit under a day counts working minutes inside
``JINSHAO_WORKING_HOURS`` on working days; a limit of a day or more counts
whole working days (72 hours → the same time of day three working days
later), the usual reading of 工作日 in government time limits. Working days
are Monday to Friday, corrected by the ``Holiday`` table (days off, and
weekend days worked under 调休).
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

DAY = timedelta(days=1)


def _hours() -> tuple[time, time]:
    start, end = settings.JINSHAO_WORKING_HOURS.split("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


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
    """The moment ``limit`` runs out when it starts at ``start``."""
    if not settings.JINSHAO_WORKING_CALENDAR:
        return start + limit
    local = timezone.localtime(start)
    overrides = _calendar(local.date(), 400)
    if limit >= DAY:
        return _after_working_days(local, math.ceil(limit / DAY), overrides)
    return _after_working_minutes(local, limit, overrides)


def _after_working_days(local: datetime, days: int, overrides: dict[date, bool]) -> datetime:
    day, counted = local.date(), 0
    while counted < days:
        day += DAY
        if is_working_day(day, overrides):
            counted += 1
    return local.replace(year=day.year, month=day.month, day=day.day)


def _after_working_minutes(
    local: datetime, limit: timedelta, overrides: dict[date, bool]
) -> datetime:
    opens, closes = _hours()
    tz = local.tzinfo
    left, moment = limit, local
    for _ in range(400):  # at most a year of days
        day = moment.date()
        if is_working_day(day, overrides):
            day_open = datetime.combine(day, opens, tz)
            day_close = datetime.combine(day, closes, tz)
            begin = max(moment, day_open)
            if begin < day_close:
                if begin + left <= day_close:
                    return begin + left
                left -= day_close - begin
        moment = datetime.combine(day + DAY, time.min, tz)
    return local + limit
