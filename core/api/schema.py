"""OpenAPI: every operation documents its refusals in the one error shape, and the writes
that honour ``Idempotency-Key`` (``core.api.idempotency``) document that header."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular import openapi

from core.api import idempotency


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, plus the ``Idempotency-Key`` header on the writes marked
    ``@idempotent``."""

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method.lower() in _WRITES and idempotency.is_idempotent(self._view_method()):
            parameters.append(idempotency.PARAMETER)
        return parameters

    def _view_method(self):
        name = getattr(self.view, "action", None) or self.method.lower()
        return getattr(self.view, name, None)


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Stable, machine-readable reason, e.g. invalid, not_found.",
                },
                "message": {"type": "string", "description": "For people, in their language."},
                "fields": {
                    "type": "object",
                    "description": "Per input field (nested fields dotted): its messages.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}

_DESCRIPTIONS = {
    "400": _(
        "invalid / malformed_request / invalid_characters: the input is not valid (or holds "
        "a NUL or an unpaired surrogate, which cannot be stored); nothing was changed."
    ),
    "401": _("not_authenticated / authentication_failed: log in (or the token expired)."),
    "403": _("permission_denied: you may see this, but not do this."),
    "404": _("not_found: no such object, or not yours to see."),
    "409": _("invalid_transition / conflict: the object's state does not allow it now."),
    "413": _("request_too_large: the body is over the size limit."),
    "429": _("throttled: too many requests; try again after the time given."),
}

#: The 409 of a write honouring ``Idempotency-Key``.
_KEYED_409 = _(
    "invalid_transition / conflict: the object's state does not allow it now; "
    "idempotency_key_reused: this Idempotency-Key was sent with another request; "
    "idempotency_key_in_progress: the first request with this key still runs."
)

#: The header of an answer given again for a repeated Idempotency-Key.
_REPLAYED = _(
    "Present (true) when this is the kept answer of an earlier request with the same "
    "Idempotency-Key: nothing was done again."
)

_WRITES = {"post", "put", "patch", "delete"}


#: Query parameters of a paginated list: a page or cursor that does not exist is a 404.
_PAGE_PARAMETERS = {"page", "cursor"}


def _codes_for(path: str, method: str, parameters: set[str]) -> list[str]:
    public = path.startswith("/api/v1/auth/token")
    codes = ["400"]
    if not public:
        codes += ["401", "403"]
    else:
        codes.append("401")
    if "{" in path or parameters & _PAGE_PARAMETERS:
        codes.append("404")
    if method in _WRITES:
        codes += ["413", "429"]
        if "{" in path or idempotency.HEADER in parameters:
            codes.append("409")
    return codes


def _document_replays(responses: dict) -> None:
    """The ``Idempotent-Replayed`` header on the success answers of a keyed write."""
    header = {
        "description": str(_REPLAYED),
        "schema": {"type": "string", "enum": ["true"]},
    }
    for code, answer in responses.items():
        if str(code).startswith("2"):
            answer.setdefault("headers", {})[idempotency.REPLAYED_HEADER] = header


def add_error_responses(result, generator, request, public):
    """drf-spectacular hook: an ``Error`` component and the 4xx answers of each operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            parameters = {p.get("name") for p in operation.get("parameters", [])}
            if idempotency.HEADER in parameters:
                _document_replays(responses)
            for code in _codes_for(path, method, parameters):
                keyed = code == "409" and idempotency.HEADER in parameters
                description = _KEYED_409 if keyed else _DESCRIPTIONS[code]
                answer = responses.setdefault(code, {"description": str(description)})
                answer.setdefault("content", content)
    return result
