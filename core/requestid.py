"""The request id: one short token naming one request, job or socket in every log line.

It comes from the proxy (``X-Request-ID``) when it is well formed, else it is
made here; it is held in a context variable, so everything the request does
(services, on-commit pushes, tasks run in-process) sees it, and it is carried
to Celery workers in a task header (``config.celery``). Each WebSocket
connection gets its own (``core.sockets.JsonSocket``).
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from contextvars import ContextVar, Token

#: The HTTP header, as the proxy sends it and the answer echoes it.
HEADER = "X-Request-ID"
#: The same header in ``request.META`` / the ASGI scope (lower-case bytes there).
META_KEY = "HTTP_X_REQUEST_ID"
#: The Celery message header carrying it to a worker.
TASK_HEADER = "jinshao_request_id"
#: Longest id taken from outside, in characters.
MAX_LENGTH = 64

_SAFE = re.compile(r"[A-Za-z0-9._:-]+")
_current: ContextVar[str | None] = ContextVar("jinshao_request_id", default=None)


def new() -> str:
    """A fresh id: 32 lower-case hex characters."""
    return uuid.uuid4().hex


def clean(value: str | bytes | None) -> str:
    """``value`` if it is a usable id (1–64 of ``A-Z a-z 0-9 . _ : -``), else a fresh one."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if value and len(value) <= MAX_LENGTH and _SAFE.fullmatch(value):
        return value
    return new()


def get() -> str | None:
    """The id of the request (job, socket) being served in this context; None outside one."""
    return _current.get()


def set_current(value: str | None) -> Token[str | None]:
    """Make ``value`` the current id; give the token to ``reset`` to undo."""
    return _current.set(value)


def reset(token: Token[str | None]) -> None:
    """Undo the ``set_current`` that returned ``token``."""
    _current.reset(token)


@contextlib.contextmanager
def bound(value: str | None) -> Iterator[str | None]:
    """``with bound(id):`` the current id is ``id`` inside the block, as before after it."""
    token = _current.set(value)
    try:
        yield value
    finally:
        _current.reset(token)
