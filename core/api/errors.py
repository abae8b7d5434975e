"""One JSON shape for every 4xx of the API: ``{"error": {"code", "message", "fields"}}``.

Domain errors (``core.errors``) keep their stable codes; DRF's own errors are
mapped to codes of the same style. Messages are in the request's language.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import Http404, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.db import lock_conflict
from core.errors import DomainError

#: DRF exception class → our error code.
_CODES = {
    exceptions.ValidationError: "invalid",
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


def _flatten(detail) -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"field": ["message", …]}`` (nested keys dotted)."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, list) and value and not all(isinstance(v, str) for v in value):
            for index, item in enumerate(value):
                walk(f"{prefix}.{index}" if prefix else str(index), item)
        else:
            messages = value if isinstance(value, list) else [value]
            out.setdefault(prefix or "non_field_errors", []).extend(str(m) for m in messages)

    walk("", detail)
    return out


def exception_handler(exc, context):
    """Turn every refused request into the one error shape."""
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, str(exc), exc.fields), status=exc.http_status)
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = _("The request is too large: at most %(size)s.") % {"size": filesizeformat(limit)}
        return Response(
            error_body("request_too_large", message),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if lock_conflict(exc):  # a race lost twice on the database (core.db.retry_once): no fault
        return Response(
            error_body(
                "conflict",
                _("Someone else changed this at the same moment: reload it and try again."),
            ),
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, TooManyFieldsSent):
        return Response(
            error_body("malformed_request", _("The request has too many fields.")),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real server error: let it be a 500 and be logged
    code = next((c for cls, c in _CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.PermissionDenied) and exc.get_codes() in (
        "password_expired",
        "second_factor_required",
    ):
        code = str(exc.get_codes())
    if isinstance(exc, exceptions.ValidationError):
        body = error_body(code, _("The request is not valid."), _flatten(exc.detail))
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        if isinstance(detail, dict):  # simplejwt's {"detail", "code", "messages"}
            code = str(detail.get("code") or code)
            detail = detail.get("detail", "")
            if code == "token_not_valid":  # unreadable, expired, blacklisted: one answer
                detail = _(
                    "This login token is not valid (expired, ended or damaged): log in again."
                )
        if code == "permission_denied" and str(detail).startswith("CSRF Failed"):
            # DRF's session check names Django's English reason ("CSRF cookie not set.")
            detail = _(
                "This browser request lacks its security token (CSRF): reload the page and "
                "try again."
            )
        body = error_body(code, str(detail))
    response.data = body
    return response


def not_found_response() -> Response:
    return Response(error_body("not_found", _("Not found.")), status=status.HTTP_404_NOT_FOUND)


def page_not_found(request, exception):
    """Django's answer to a URL no route matches (``handler404``): under /api/ in the one
    error shape, like every other 4xx of the API; the usual page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body("not_found", _("Not found.")),
            status=status.HTTP_404_NOT_FOUND,
            json_dumps_params={"ensure_ascii": False},
        )
    return defaults.page_not_found(request, exception)
