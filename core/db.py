"""Transactions that lost a race on the database: retried once, then a clean 409.

PostgreSQL ends one of two transactions that wait on each other (a deadlock,
SQLSTATE ``40P01``) and, at a stricter isolation level, one that read what
another changed (``40001``). Neither is a server fault: nothing was written,
and the same request run again usually passes. ``retry_once`` runs a whole
transaction again once; ``lock_conflict`` tells the API's error handler
(``core.api.errors``) to answer a race that still loses with ``409 conflict``
instead of a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import DatabaseError, connection, transaction

T = TypeVar("T")

#: SQLSTATEs of a transaction PostgreSQL ended because of another one: deadlock detected,
#: serialization failure, lock not available (``NOWAIT`` / ``lock_timeout``).
LOCK_CONFLICT_STATES = frozenset({"40P01", "40001", "55P03"})


def lock_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is a database error for losing a race (see ``LOCK_CONFLICT_STATES``)."""
    if not isinstance(exc, DatabaseError):
        return False
    cause = exc.__cause__
    state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    return state in LOCK_CONFLICT_STATES


def retry_once(work: Callable[[], T]) -> T:
    """Run ``work`` in a transaction; run it once more if the database ended it for a race.

    Only an outermost transaction can be run again (inside another one the whole outer
    transaction is lost): there ``work`` runs once as it is. A second loss raises the
    database's error, which the API answers with 409 (``lock_conflict``).
    """
    if connection.in_atomic_block:
        return work()
    try:
        with transaction.atomic():
            return work()
    except DatabaseError as exc:
        if not lock_conflict(exc):
            raise
    with transaction.atomic():
        return work()
