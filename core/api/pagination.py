"""Cursor pages for the phone's lists: stable under inserts, cheap at any depth.

A cursor is opaque to the client but not secret: it is base64 of
``o=<offset>&r=<reverse>&p=<position>``, and anyone can forge one. DRF checks
the offset and the direction; the position goes straight into a filter on the
ordering field, so a position that is not a value of that field (a date that
is no date, a NUL, a year past 9999) failed inside the database layer as a
500. Here it is checked against the field first and answered like every other
bad cursor: 404 ``not_found`` in the one error shape.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination, PageNumberPagination

#: A position is one value of the ordering field; no real one is longer.
MAX_POSITION_LENGTH = 64


class NewestFirstCursorPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:
        return settings.JINSHAO_MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model  # the position is checked against its ordering field
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request) -> Cursor | None:
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            self._check_position(cursor.position)
        return cursor

    def _check_position(self, position: str) -> None:
        """Refuse a position the ordering field could not hold, as DRF refuses other bad cursors."""
        invalid = NotFound(self.invalid_cursor_message)
        if len(position) > MAX_POSITION_LENGTH or "\x00" in position:
            raise invalid
        try:
            field = self._model._meta.get_field(self.ordering[0].lstrip("-"))
        except (AttributeError, FieldDoesNotExist):
            return  # ordering across a relation: nothing to check it against here
        try:
            with warnings.catch_warnings():
                # A naive time (DRF never writes one) only warns; refuse it like the rest.
                warnings.simplefilter("error", RuntimeWarning)
                value = field.get_prep_value(position)
                if isinstance(value, datetime):
                    value.astimezone(UTC)  # as stored: years 1 to 9999 only (SQLite raises)
                field.get_db_prep_value(value, connection, prepared=True)
        except (DjangoValidationError, ValueError, TypeError, OverflowError, RuntimeWarning):
            raise invalid from None


class PickerPagination(PageNumberPagination):
    """Numbered pages for the pickers (short lists ordered by name or code)."""

    page_size = 50
    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:
        return settings.JINSHAO_MAX_PAGE_SIZE
