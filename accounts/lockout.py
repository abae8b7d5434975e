"""Lock-out around django-axes: log-in attempts for one account from one address are
taken one at a time, and what a locked-out attempt is told (django-axes calls it)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DatabaseError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from audit.request import client_ip
from audit.services import record
from core.api.errors import error_body


def locked_out(request, credentials=None, *args, **kwargs) -> HttpResponse:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _(
        "Too many failed log-ins for this account from this address: "
        "try again in %(minutes)s minutes, or ask the security administrator to unlock it."
    ) % {"minutes": minutes}
    username = str((credentials or {}).get("username", ""))[:150]
    record(
        "auth.locked_out",
        ip=client_ip(request),
        success=False,
        details={"username": username},
    )
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body("locked_out", message), status=403, json_dumps_params={"ensure_ascii": False}
        )
    return HttpResponse(message, status=403, content_type="text/plain; charset=utf-8")


@contextmanager
def one_attempt_at_a_time(request, username: str) -> Iterator[None]:
    """Hold a lock for ``username`` from the request's address around one log-in attempt.

    django-axes asks "is it locked?" before the password is checked and counts a
    failure after, so concurrent attempts would all pass the question before any
    failure is counted. Held from before the question until the failure is
    committed, the lock makes the two one step; axes still does the counting.
    Every server process shares it: on PostgreSQL it is a transaction-level
    advisory lock on a hash of (username, address); on SQLite the transaction
    itself is the lock, since it takes the single write lock as it begins
    (``transaction_mode`` IMMEDIATE, config/settings.py).

    A refused log-in raises from inside, yet its failure and audit records must
    stay: anything but a database error is raised again after the commit.
    """
    refused: Exception | None = None
    with transaction.atomic():
        connection = transaction.get_connection()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_id(request, username)])
        try:
            yield
        except DatabaseError:
            raise
        except Exception as exc:  # noqa: BLE001 - raised again below, once committed
            refused = exc
    if refused is not None:
        raise refused


def _lock_id(request, username: str) -> int:
    """A signed 64-bit number for (username, address), as PostgreSQL's advisory locks take."""
    key = f"jinshao.login\0{username}\0{client_ip(request) or ''}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big", signed=True)
