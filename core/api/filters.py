"""Filters shared by the API's lists."""

from __future__ import annotations

from datetime import datetime

import django_filters
from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from core.dates import local_day_bounds

#: The range of a 64-bit primary key: a number outside it cannot name anything, and
#: some databases refuse to even compare with it.
SMALLEST_ID, LARGEST_ID = -(2**63), 2**63 - 1


@extend_schema_field(OpenApiTypes.INT64)
class IdFilter(django_filters.NumberFilter):
    """An object's id: a whole number a primary key can hold, or the request is refused (400)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", SMALLEST_ID)
        kwargs.setdefault("max_value", LARGEST_ID)
        super().__init__(*args, **kwargs)


class DayOrMomentField(forms.Field):
    """A bare date ``YYYY-MM-DD`` (→ ``datetime.date``) or an ISO 8601 moment (→ aware
    ``datetime``; naive ones are local). Anything else: a 400 naming the field."""

    default_error_messages = {
        "invalid": _("Enter a date (2026-11-30) or a date and time (2026-11-30T08:30+08:00)."),
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:
            day = parse_date(text)
            if day is not None:
                return day
            moment = parse_datetime(text)
        except ValueError:
            moment = None
        if moment is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class LocalDayFilter(django_filters.Filter):
    """``after`` or ``before`` a bare date, read as the whole local day (Asia/Shanghai):
    ``after=D`` from D 00:00 local inclusive, ``before=D`` to the end of D inclusive
    (``core.dates.local_day_bounds``; the same date in both is that one day). A full
    moment with its time is taken as it is: ``after`` inclusive, ``before`` exclusive.
    """

    field_class = DayOrMomentField

    def __init__(self, *args, side: str, **kwargs):
        if side not in ("after", "before"):
            raise ValueError(side)
        self.side = side
        kwargs.setdefault(
            "help_text",
            _(
                "On or after this day: a date (YYYY-MM-DD) counts from 00:00 of that day,"
                " local time (Asia/Shanghai); a date and time is taken as it is."
            )
            if side == "after"
            else _(
                "On or before this day: a date (YYYY-MM-DD) counts to the end of that day,"
                " local time (Asia/Shanghai); a date and time is taken as it is (before it)."
            ),
        )
        super().__init__(*args, **kwargs)
        # The schema's own entry (as @extend_schema_field would give the class), per side.
        self._spectacular_annotation = {
            "field": {"type": "string", "description": self.extra["help_text"]}
        }

    def filter(self, qs, value):
        if value is None:
            return qs
        if isinstance(value, datetime):
            moment = value
        else:
            start, end = local_day_bounds(value)
            moment = start if self.side == "after" else end
        lookup = "gte" if self.side == "after" else "lt"
        return qs.filter(**{f"{self.field_name}__{lookup}": moment})
