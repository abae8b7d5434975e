"""The request id and the one log line per request (``jinshao.request``).

First in ``MIDDLEWARE``: takes the proxy's ``X-Request-ID`` (or makes one,
``core.requestid``), holds it while the request is served and echoes it on the
answer; then logs ``method route status duration_ms user_id client`` as one
record. The route is the URL pattern (``api/v1/cases/<pk>/``), never the path
with its ids or the query string; the body is never logged.
"""

from __future__ import annotations

import logging
import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.utils.functional import empty

from core import requestid
from core.client import client_address
from core.routes import url_pattern

logger = logging.getLogger("jinshao.request")


def _user_id(request) -> int | None:
    """The id of the person the request was served to; None if anonymous or never looked up
    (a lazy user is not loaded here: that would query the database from the event loop)."""
    user = request.__dict__.get("user")
    if user is None:
        return None
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is empty or not getattr(wrapped, "is_authenticated", False):
        return None
    return wrapped.pk


class RequestIdMiddleware:
    """Binds the request id, echoes it in ``X-Request-ID``, logs the request once."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        rid, token, started = self._start(request)
        try:
            response = self.get_response(request)
            self._finish(request, response, rid, started)
        finally:
            requestid.reset(token)
        return response

    async def __acall__(self, request):
        rid, token, started = self._start(request)
        try:
            response = await self.get_response(request)
            self._finish(request, response, rid, started)
        finally:
            requestid.reset(token)
        return response

    def _start(self, request):
        rid = requestid.clean(request.META.get(requestid.META_KEY))
        request.request_id = rid
        return rid, requestid.set_current(rid), time.monotonic()

    def _finish(self, request, response, rid: str, started: float) -> None:
        response[requestid.HEADER] = rid
        logger.info(
            "request",
            extra={
                "method": request.method,
                "route": url_pattern(request),
                "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
                "user_id": _user_id(request),
                "client": client_address(request),
            },
        )
