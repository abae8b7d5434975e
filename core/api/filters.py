"""Filters shared by the API's lists."""

from __future__ import annotations

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

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
