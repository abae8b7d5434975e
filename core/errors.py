"""Domain errors with stable codes.

Services raise these; the admin turns them into messages, the API (issue 3)
into ``{"error": {"code", "message", "fields"}}`` and sockets into error frames.
The code is stable for clients; the message is translated for people.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refused operation: nothing was changed."""

    code = "error"
    http_status = 400

    def __init__(self, message: Any, *, code: str | None = None, fields: dict | None = None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}

    def __str__(self) -> str:
        return str(self.message)


class PermissionDenied(DomainError):
    """The actor may not do this (role or scope)."""

    code = "permission_denied"
    http_status = 403


class InvalidTransition(DomainError):
    """The object's state does not allow the operation."""

    code = "invalid_transition"
    http_status = 409


class Conflict(DomainError):
    """Someone else changed the object first."""

    code = "conflict"
    http_status = 409


class ValidationFailed(DomainError):
    """The input is wrong; ``fields`` maps field names to messages."""

    code = "invalid"
    http_status = 400
