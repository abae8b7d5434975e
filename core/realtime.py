"""Pushing to live sockets through the channel layer (Redis in production).

Group names are kept here, so the consumers and the services that push agree
on them. A push is best-effort: the database already holds what is pushed.
When the channel layer is down, the push is logged and reported as not
delivered, never raised. A client that missed it catches up from the
database when it reconnects.
"""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def room_group(case_id: int) -> str:
    """Everyone connected to one case's room."""
    return f"case.{case_id}"


def user_group(user_id: int) -> str:
    """Every socket of one person (their notification feed)."""
    return f"user.{user_id}"


async def apush_many(pushes: list[tuple[str, dict]]) -> list[bool]:
    """Several pushes at once, concurrently, from async code; each one's outcome."""
    layer = get_channel_layer()
    if layer is None or not pushes:
        return [False] * len(pushes)

    async def send(group: str, payload: dict) -> bool:
        for attempt in (1, 2):  # a second try gets a fresh connection after a Redis restart
            try:
                await layer.group_send(group, payload)
            except Exception:  # the layer's own errors vary by backend: Redis down, full, …
                if attempt == 2:
                    logger.warning("Live push to %s failed", group, exc_info=True)
                    return False
            else:
                return True
        return False

    return list(await asyncio.gather(*(send(g, p) for g, p in pushes)))


def push_many(pushes: list[tuple[str, dict]]) -> list[bool]:
    """``apush_many`` from sync code (one hop to the event loop for all of them)."""
    if not pushes:
        return []
    return async_to_sync(apush_many)(pushes)


def push(group: str, payload: dict) -> bool:
    """Send ``payload`` (its ``type`` names the consumer handler) to ``group``; True if sent."""
    return push_many([(group, payload)])[0]


def access_group(user_id: int) -> str:
    """Every socket of one person, rooms and feed alike: told when their access changes."""
    return f"access.{user_id}"


def access_changed(user_id: int, **reason) -> None:
    """After the transaction commits, every socket of the person re-checks its right.

    ``reason`` travels with the event: ``session`` (the SHA-256 of a session
    key that was logged out) and ``login`` (the id of a phone's login that
    logged out, ``accounts.api.tokens.login_id``) end the sockets opened with
    them at once; anything else makes each socket ask the
    database whether its person may still be there (and close if not).
    """
    from django.db import transaction

    payload = {"type": "access.changed", **reason}
    transaction.on_commit(lambda: push(access_group(user_id), payload), robust=True)
