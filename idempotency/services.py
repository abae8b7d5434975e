"""Keeping and finding the answers of keyed requests (the HTTP side: core.api.idempotency).

``reserve`` must run inside the transaction that will hold the request's
effect; ``complete`` stores the answer in that same transaction. Nothing here
commits by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from idempotency.models import IdempotentRequest


class KeyInFlight(Exception):
    """Another request with this key still runs (it did not finish within the wait)."""


@dataclass(frozen=True)
class Reservation:
    """The outcome of ``reserve``: either ``row`` is ours to run (``stored`` False) or it is
    a finished earlier request with its answer (``stored`` True)."""

    row: IdempotentRequest
    stored: bool


def expiry_cutoff(now: datetime | None = None) -> datetime:
    """Rows created before this instant are expired (``JINSHAO_IDEMPOTENCY_KEY_HOURS``)."""
    hours = settings.JINSHAO_IDEMPOTENCY_KEY_HOURS
    return (now or timezone.now()) - timedelta(hours=hours)


def reserve(*, person, key: str, method: str, path: str, fingerprint: str) -> Reservation:
    """Claim ``key`` for ``person`` in the current transaction, or find its earlier request.

    Inserts the row (without an answer) in a savepoint. A concurrent transaction
    holding the same (person, key) makes the insert wait, at most
    ``JINSHAO_IDEMPOTENCY_WAIT_SECONDS`` on PostgreSQL (``lock_timeout``); when that
    transaction commits, the insert fails and its stored row is returned; when it rolls
    back, the insert goes through. An expired row is deleted and the key claimed anew.

    Raises ``KeyInFlight`` when the wait ran out (or SQLite's database stayed locked).
    Must be called inside ``transaction.atomic``.
    """
    assert transaction.get_connection().in_atomic_block, "reserve needs the effect's transaction"
    for _attempt in range(2):
        try:
            with transaction.atomic(), _bounded_wait():
                row = IdempotentRequest.objects.create(
                    person=person, key=key, method=method, path=path, fingerprint=fingerprint
                )
            return Reservation(row, stored=False)
        except IntegrityError:
            earlier = IdempotentRequest.objects.filter(person=person, key=key).first()
            if earlier is None:  # gone meanwhile (purged): claim it again
                continue
            if earlier.created_at >= expiry_cutoff():
                return Reservation(earlier, stored=True)
            earlier.delete()
        except OperationalError as exc:  # lock_timeout, or SQLite's "database is locked"
            raise KeyInFlight from exc
    raise KeyInFlight


class _bounded_wait:
    """On PostgreSQL, ``lock_timeout`` for the statements inside only (restored after).

    Inside a savepoint: if a statement fails, rolling back the savepoint also restores
    the setting; on success it is set back explicitly.
    """

    def __enter__(self):
        self.postgres = connection.vendor == "postgresql"
        if self.postgres:
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('lock_timeout')")
                self.previous = cursor.fetchone()[0]
                wait_ms = int(settings.JINSHAO_IDEMPOTENCY_WAIT_SECONDS * 1000)
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{wait_ms}ms"])
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.postgres and exc_type is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [self.previous])
        return False


def complete(row: IdempotentRequest, *, status: int, body) -> None:
    """Store the answer of the request that ``row`` reserved (same transaction as its effect).

    ``status`` is the HTTP status (2xx/3xx only: a refused request keeps no row);
    ``body`` the JSON-ready data of the answer.
    """
    row.response_status = status
    row.response_body = body
    row.save(update_fields=["response_status", "response_body"])


def purge_expired(*, now: datetime | None = None) -> int:
    """Delete the rows past ``JINSHAO_IDEMPOTENCY_KEY_HOURS``; the number deleted."""
    deleted, _by_model = IdempotentRequest.objects.filter(
        created_at__lt=expiry_cutoff(now)
    ).delete()
    return deleted
