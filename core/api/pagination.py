"""Cursor pages for the phone's lists: stable under inserts, cheap at any depth."""

from django.conf import settings
from rest_framework.pagination import CursorPagination, PageNumberPagination


class NewestFirstCursorPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:
        return settings.JINSHAO_MAX_PAGE_SIZE


class PickerPagination(PageNumberPagination):
    """Numbered pages for the pickers (short lists ordered by name or code)."""

    page_size = 50
    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:
        return settings.JINSHAO_MAX_PAGE_SIZE
