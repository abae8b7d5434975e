"""Dates and times of day as people write them, read one way everywhere.

- A bare date in any filter (API, admin, dashboard, exports) is the whole
  local day in ``settings.TIME_ZONE`` (Asia/Shanghai): ``local_day_bounds``.
- Working hours (``JINSHAO_WORKING_HOURS``, ``"HH:MM-HH:MM"``) where
  ``24:00`` is the end of the day: ``parse_working_hours``, called by the
  settings at start-up and by ``cases.deadlines``.

Imports nothing from the apps: the settings module calls it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

DAY = timedelta(days=1)
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def _offset(text: str, name: str) -> timedelta:
    match = _CLOCK.match(text)
    if match is None:
        raise ImproperlyConfigured(f"{name}: {text.strip()!r} is not a time of day HH:MM.")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ImproperlyConfigured(
            f"{name}: {text.strip()!r} is not a time of day between 00:00 and 24:00."
        )
    return timedelta(hours=hours, minutes=minutes)


def parse_working_hours(
    value: str, name: str = "JINSHAO_WORKING_HOURS"
) -> tuple[timedelta, timedelta]:
    """``"08:30-17:30"`` → (opening, closing) as offsets from local midnight.

    ``24:00`` is the end of the day, so ``"00:00-24:00"`` is the whole day.
    Raises ``ImproperlyConfigured`` (naming ``name``) for anything else than
    two times ``HH:MM`` joined by ``-`` with the closing after the opening.
    """
    parts = str(value).split("-")
    if len(parts) != 2:
        raise ImproperlyConfigured(
            f"{name}: {value!r} must be an opening and a closing time, e.g. 08:30-17:30."
        )
    opens, closes = _offset(parts[0], name), _offset(parts[1], name)
    if closes <= opens:
        raise ImproperlyConfigured(
            f"{name}: {value!r} closes at or before it opens (24:00 is the end of the day)."
        )
    return opens, closes


def local_midnight(day: date) -> datetime:
    """The aware moment the local day ``day`` begins (00:00 in ``settings.TIME_ZONE``)."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def local_day_bounds(first: date, last: date | None = None) -> tuple[datetime, datetime]:
    """The local days ``first`` to ``last`` (inclusive; ``last`` defaults to ``first``)
    as aware moments ``(start, end)``: ``start`` inclusive, ``end`` exclusive.

    Every filter with a bare date uses it: ``after=D`` is ``>= start(D)``,
    ``before=D`` is ``< end(D)`` (the whole of D counts), so the same day in
    both gives the cases of that local day.
    """
    return local_midnight(first), local_midnight((last or first) + DAY)


def local_day(moment: datetime) -> date:
    """The local (``settings.TIME_ZONE``) date of an aware moment."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date()
