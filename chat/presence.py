"""Who has a room open right now, so that people elsewhere can be alerted instead.

A counter per (case, person) in the cache (Redis in production, so every server
process sees every socket). It goes up on connect and down on disconnect, and
it expires after ``TTL`` seconds without activity, so a process that died
with open sockets leaves a stale "present" for at most that long. Sockets
refresh it on every frame and on pings.
"""

from __future__ import annotations

import functools
import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)

TTL = 120


def _best_effort(default):
    """Presence is a hint: when the cache is down, carry on as if nobody were present."""

    def wrap(function):
        @functools.wraps(function)
        def guarded(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except Exception:
                logger.warning("Presence %s failed", function.__name__, exc_info=True)
                return default

        return guarded

    return wrap


def _key(case_id: int, user_id: int) -> str:
    return f"chat:presence:{case_id}:{user_id}"


@_best_effort(None)
def enter(case_id: int, user_id: int) -> None:
    key = _key(case_id, user_id)
    cache.add(key, 0, TTL)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, TTL)
    cache.touch(key, TTL)


@_best_effort(None)
def leave(case_id: int, user_id: int) -> None:
    key = _key(case_id, user_id)
    try:
        if cache.decr(key) <= 0:
            cache.delete(key)
    except ValueError:
        pass


@_best_effort(None)
def touch(case_id: int, user_id: int) -> None:
    cache.touch(_key(case_id, user_id), TTL)


@_best_effort(set())
def present(case_id: int, user_ids) -> set[int]:
    ids = list(user_ids)
    found = cache.get_many([_key(case_id, uid) for uid in ids])
    return {uid for uid in ids if (found.get(_key(case_id, uid)) or 0) > 0}
