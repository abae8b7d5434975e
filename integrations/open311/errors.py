"""Refusals of Open311 requests, carrying the HTTP status GeoReport reports as the error code."""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _

from core.errors import DomainError


class Open311Error(DomainError):
    """A refused Open311 request: ``http_status`` is both the answer's status and its ``code``."""

    code = "open311_invalid"

    def __init__(
        self,
        message: Any,
        *,
        status: int = 400,
        code: str | None = None,
        fields: dict | None = None,
    ):
        super().__init__(message, code=code, fields=fields)
        self.http_status = status


def invalid(fields: dict[str, list[str]]) -> Open311Error:
    """400: parameters missing or malformed (one message per parameter)."""
    return Open311Error(_("The request's parameters are not valid."), fields=fields)


def forbidden() -> Open311Error:
    return Open311Error(
        _("The api_key is missing or wrong, or its system is not active."),
        status=403,
        code="open311_bad_api_key",
    )


def not_found(message: Any = None) -> Open311Error:
    return Open311Error(message or _("Not found."), status=404, code="open311_not_found")


class Throttled(Open311Error):
    """429: the system posts faster than its rate; ``retry_after`` in seconds."""

    def __init__(self, wait: float | None):
        super().__init__(
            _("Too many requests; try again later."), status=429, code="open311_throttled"
        )
        self.retry_after = math.ceil(wait) if wait else None
