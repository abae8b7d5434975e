"""``Idempotency-Key``: a write the phone retries after a lost answer happens once.

Semantics of the IETF draft "The Idempotency-Key HTTP Header Field"
(draft-ietf-httpapi-idempotency-key-header), for the writes marked ``@idempotent``:

- No header: the request runs as always (the key is optional).
- A key not seen before (for this person, within ``JINSHAO_IDEMPOTENCY_KEY_HOURS``):
  the request runs inside one transaction with a row reserving the key; a successful
  answer (2xx) is stored in that row before the commit, so the effect and its record
  commit together or not at all. A refused answer (4xx, or an error) keeps no row:
  nothing was changed, and the same key may be sent again.
- The same key, method, path and body again: the stored answer, status and body, with
  ``Idempotent-Replayed: true``; the view does not run.
- The same key with another body (or another method or path): 409
  ``idempotency_key_reused`` (the draft suggests 422; issue 14 asks for 409).
- The same key while the first request still runs: the duplicate waits for it (at most
  ``JINSHAO_IDEMPOTENCY_WAIT_SECONDS``), then gets its stored answer, or runs itself if
  the first was refused; past the wait, 409 ``idempotency_key_in_progress``.
- A key that is empty, longer than 255 characters or not printable ASCII (NUL, control
  characters, non-ASCII): 400 ``idempotency_key_invalid``.

The key may be sent bare (``Idempotency-Key: 8e03978e-…``) or, as the draft writes it,
as a structured-field string (``Idempotency-Key: "8e03978e-…"``). The body's digest
(``request_fingerprint``) is taken from the parsed body, an uploaded file by the
SHA-256 of its bytes, so a multipart retry with another boundary is the same request.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from core.errors import Conflict, DomainError, ValidationFailed
from idempotency import services

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
#: Marks a view method as honouring the header (the schema and the coverage test read it).
MARK = "idempotent"


class InvalidKey(ValidationFailed):
    code = "idempotency_key_invalid"

    def __init__(self) -> None:
        message = _(
            "The Idempotency-Key header must be 1 to 255 printable ASCII characters "
            "(a UUID is best)."
        )
        super().__init__(message, fields={HEADER: [message]})


class RequestTooLarge(DomainError):
    code = "request_too_large"
    http_status = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


def key_of(request) -> str | None:
    """The request's ``Idempotency-Key``, unquoted; None when absent.

    Raises ``InvalidKey`` for an empty, too long or non-printable-ASCII key.
    """
    raw = request.META.get("HTTP_IDEMPOTENCY_KEY")
    if raw is None:
        return None
    value = raw.strip(" \t")
    if value.startswith('"'):
        value = _unquote(value)
    if not 1 <= len(value) <= MAX_KEY_LENGTH or any(not " " <= c <= "~" for c in value):
        raise InvalidKey()
    return value


def _unquote(value: str) -> str:
    """The content of an RFC 8941 sf-string (``"…"``, with ``\\"`` and ``\\\\`` escapes)."""
    if len(value) < 2 or not value.endswith('"'):
        raise InvalidKey()
    out: list[str] = []
    chars = iter(value[1:-1])
    for char in chars:
        if char == "\\":
            char = next(chars, "")
            if char not in ('"', "\\"):
                raise InvalidKey()
        elif char == '"':
            raise InvalidKey()
        out.append(char)
    return "".join(out)


def largest_body() -> int:
    """The largest body any API write accepts, in bytes: the largest upload and its form."""
    return max(settings.JINSHAO_UPLOAD_LIMITS.values()) + 64 * 1024


def _canonical(value: Any) -> Any:
    """``value`` (parsed request data) as plain JSON data; an upload as its name, size and
    SHA-256, never as its stream."""
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)  # the view reads it again
        return {"file": value.name, "size": value.size, "sha256": digest.hexdigest()}
    if isinstance(value, MultiValueDict):
        return {key: [_canonical(v) for v in value.getlist(key)] for key in value}
    if isinstance(value, dict):
        return {str(key): _canonical(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def request_fingerprint(request) -> str:
    """SHA-256 (hex) of the request's query string and parsed body in a canonical form
    (keys sorted; uploads by their content's digest)."""
    canonical = {
        "query": _canonical(request.query_params),
        "data": _canonical(request.data),
    }
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class _Refused(Exception):
    """Carries a non-success answer out of the transaction, rolling the reservation back."""

    def __init__(self, response) -> None:
        self.response = response


def _replay(row, *, method: str, path: str, fingerprint: str) -> Response:
    if (row.method, row.path, row.fingerprint) != (method, path, fingerprint):
        raise Conflict(
            _(
                "This Idempotency-Key was already used for a different request: "
                "use a new key for a new request."
            ),
            code="idempotency_key_reused",
        )
    return Response(
        row.response_body, status=row.response_status, headers={REPLAYED_HEADER: "true"}
    )


def _json_ready(data: Any) -> Any:
    """The answer's data as the JSON the client received (dates, decimals, lazy text)."""
    rendered = JSONRenderer().render(data)
    return json.loads(rendered) if rendered else None


def run_once(request, handler: Callable[[], Any]):
    """Answer ``request`` by calling ``handler()`` at most once per key (module docstring)."""
    if request.method in SAFE_METHODS:  # a GET of an action that also writes
        return handler()
    key = key_of(request)
    if key is None or not request.user.is_authenticated:
        return handler()
    if int(request.META.get("CONTENT_LENGTH") or 0) > largest_body():  # before parsing it
        raise RequestTooLarge(
            _("The request is too large: at most %(size)s.")
            % {"size": filesizeformat(largest_body())}
        )
    method, path = request.method, request.path
    fingerprint = request_fingerprint(request)
    try:
        with transaction.atomic():
            try:
                reservation = services.reserve(
                    person=request.user, key=key, method=method, path=path, fingerprint=fingerprint
                )
            except services.KeyInFlight:
                raise Conflict(
                    _(
                        "A request with this Idempotency-Key is still being handled: "
                        "try again in a moment."
                    ),
                    code="idempotency_key_in_progress",
                ) from None
            if reservation.stored:
                return _replay(reservation.row, method=method, path=path, fingerprint=fingerprint)
            response = handler()
            if not status.is_success(response.status_code):
                raise _Refused(response)
            services.complete(
                reservation.row,
                status=response.status_code,
                body=_json_ready(getattr(response, "data", None)),
            )
            return response
    except _Refused as refused:
        return refused.response


def idempotent(view_method):
    """Decorate a DRF view method (an action, ``create``, ``post``…) so that it honours
    ``Idempotency-Key`` (module docstring). Put it right above the ``def``, under
    ``@action`` and ``@extend_schema``; ``core.api.schema.AutoSchema`` documents the header.
    """

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        return run_once(request, lambda: view_method(self, request, *args, **kwargs))

    setattr(wrapper, MARK, True)
    return wrapper


def is_idempotent(view_method) -> bool:
    return bool(getattr(view_method, MARK, False))


PARAMETER = OpenApiParameter(
    name=HEADER,
    location=OpenApiParameter.HEADER,
    # Printable ASCII, no space at either end; the draft's quoted form ("…") is accepted too.
    type={
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": r"^[!#-~]([ -~]*[!-~])?$",
    },
    required=False,
    description=gettext_lazy(
        "A key of your own for this write (a UUID; 1 to 255 printable ASCII characters), "
        "kept for 24 hours. Sent again with the same body, the first answer comes back "
        "(with the header Idempotent-Replayed: true) and nothing is done twice. The same key "
        "with another body is 409 idempotency_key_reused; while the first request still "
        "runs, 409 idempotency_key_in_progress; a malformed key is 400 "
        "idempotency_key_invalid."
    ),
)
