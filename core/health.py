"""Readiness checks for ``/health/ready`` (the views are ``core.api.health``).

Each check answers a ``Check`` (name, ok, lag in seconds where there is one) and
never raises: a failure is logged for the operator and answered as ``ok=False``,
with no hostname, password or trace in the answer. Every check is bounded by
``JINSHAO_HEALTH_TIMEOUT_SECONDS``: the database by a statement timeout
(PostgreSQL), Redis by socket timeouts, the channel layer by ``asyncio.wait_for``,
the storage by a worker thread. One process computes the answer at most once per
``JINSHAO_HEALTH_CACHE_SECONDS``; callers in between get the kept answer.

Checks, in order: ``database`` (one ``SELECT 1``), ``migrations`` (the migration
graph's leaves, read from disk once per process, against ``django_migrations``),
``outbox`` (age of the oldest pending ``OutboundMessage``), ``sweep`` (time since
the deadline sweep last finished, ``record_sweep``), ``audit`` (the audit chain
head is there and its signatures verify), ``audit_queue`` (age of the oldest
audit record still waiting for the sequencer, within
``JINSHAO_AUDIT_PENDING_MAX_SECONDS``), then, when configured, ``redis`` (the
cache's Redis answers PING), ``channel_layer`` (a send to a throwaway channel on
the Redis channel layer) and ``storage`` (``exists()`` on a small key).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hmac
import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from core.client import client_address

logger = logging.getLogger("jinshao.health")

#: Cache key of the deadline sweep's heartbeat: ``time.time()`` of its last finished run.
SWEEP_HEARTBEAT_KEY = "jinshao:health:sweep"
#: The storage key whose existence is asked (it need not exist).
STORAGE_PROBE_NAME = ".jinshao-health"

_started_at = time.time()  # a process that never saw a sweep counts its lag from here
_lock = threading.Lock()
_kept: tuple[float, list[Check]] | None = None
_storage_pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="health")


@dataclass(frozen=True)
class Check:
    """One check's outcome: ``name``, ``ok``, and ``lag`` in seconds (outbox, sweep) or None."""

    name: str
    ok: bool
    lag: float | None = None

    def as_dict(self) -> dict[str, object]:
        shown: dict[str, object] = {"ok": self.ok}
        if self.lag is not None:
            shown["lag_seconds"] = round(self.lag, 1)
        return shown


def record_sweep() -> None:
    """Note that the deadline sweep has just finished (``cases.tasks``); never raises."""
    try:
        cache.set(SWEEP_HEARTBEAT_KEY, time.time(), timeout=None)
    except Exception:  # noqa: BLE001 (a cache outage must not fail the sweep itself)
        logger.warning("could not record the sweep's heartbeat", exc_info=True)


def forget() -> None:
    """Drop the kept answer, so the next ``ready_checks`` runs every check again."""
    global _kept
    with _lock:
        _kept = None


def ready_checks() -> list[Check]:
    """Every check's outcome, at most ``JINSHAO_HEALTH_CACHE_SECONDS`` old."""
    global _kept
    with _lock:  # one computation at a time; the others wait and reuse it
        now = time.monotonic()
        if _kept is not None and now - _kept[0] < settings.JINSHAO_HEALTH_CACHE_SECONDS:
            return _kept[1]
        checks = _run_checks()
        _kept = (time.monotonic(), checks)
        return checks


def _run_checks() -> list[Check]:
    checks = _database_checks()
    checks.append(_sweep_check())
    if _uses_redis_cache():
        checks.append(_guarded("redis", _redis_ping))
    if _uses_redis_channel_layer():
        checks.append(_guarded("channel_layer", _channel_layer_send))
    checks.append(_guarded("storage", _storage_reachable))
    return checks


def _guarded(name: str, probe: Callable[[], None]) -> Check:
    try:
        probe()
    except Exception:  # noqa: BLE001 (a failed check is an answer, not an error)
        logger.warning("readiness check %s failed", name, exc_info=True)
        return Check(name, ok=False)
    return Check(name, ok=True)


# The database: one transaction, a statement timeout, a few cheap queries.


def _database_checks() -> list[Check]:
    try:
        with transaction.atomic():
            _statement_timeout()
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            # Each in a savepoint: a missing table (migrations behind) fails its own check.
            return [
                Check("database", ok=True),
                _in_savepoint(
                    "migrations", lambda: Check("migrations", not unapplied_migrations())
                ),
                _in_savepoint("outbox", _outbox_check),
                _in_savepoint("audit", lambda: Check("audit", ok=_audit_head_verifies())),
                _in_savepoint("audit_queue", _audit_queue_check),
            ]
    except Exception:  # noqa: BLE001 (unreachable, timed out: every database check fails)
        logger.warning("readiness: the database is unreachable", exc_info=True)
        return [Check(name, ok=False) for name in DATABASE_CHECKS]


DATABASE_CHECKS = ("database", "migrations", "outbox", "audit", "audit_queue")


def _in_savepoint(name: str, check: Callable[[], Check]) -> Check:
    try:
        with transaction.atomic():
            return check()
    except Exception:  # noqa: BLE001 (a failed check is an answer, not an error)
        logger.warning("readiness check %s failed", name, exc_info=True)
        return Check(name, ok=False)


def _statement_timeout() -> None:
    if connection.vendor == "postgresql":
        milliseconds = int(settings.JINSHAO_HEALTH_TIMEOUT_SECONDS * 1000)
        with connection.cursor() as cursor:  # this transaction only
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(milliseconds)])


@functools.cache
def migration_leaves() -> dict[tuple[str, str], tuple[tuple[str, str], ...]]:
    """The graph's leaf migrations on disk, each with what it replaces (squashes); cached."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return {leaf: tuple(graph.nodes[leaf].replaces or ()) for leaf in graph.leaf_nodes()}


def unapplied_migrations() -> list[tuple[str, str]]:
    """Leaf migrations not recorded as applied (a squash counts if all it replaces is)."""
    applied = set(MigrationRecorder(connection).applied_migrations())
    return sorted(
        leaf
        for leaf, replaces in migration_leaves().items()
        if leaf not in applied and not (replaces and applied.issuperset(replaces))
    )


def _outbox_check() -> Check:
    from django.db.models import Min

    from integrations.choices import OutboundState
    from integrations.models import OutboundMessage

    oldest = OutboundMessage.objects.filter(state=OutboundState.PENDING).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    lag = max(0.0, (timezone.now() - oldest).total_seconds()) if oldest else 0.0
    return Check("outbox", ok=_within(lag, settings.JINSHAO_READY_OUTBOX_LAG_SECONDS), lag=lag)


def sweep_lag() -> float:
    """Seconds since the deadline sweep last finished (its heartbeat, ``record_sweep``);
    a process that has seen none counts from its own start. Raises if the cache is down.
    Readiness and the ``jinshao_sweep_lag_seconds`` metric both read it."""
    last = cache.get(SWEEP_HEARTBEAT_KEY)
    return max(0.0, time.time() - float(last if last is not None else _started_at))


def _sweep_check() -> Check:
    try:
        lag = sweep_lag()
    except Exception:  # noqa: BLE001 (the cache is down: the redis check names it)
        logger.warning("readiness: the sweep's heartbeat is unreadable", exc_info=True)
        return Check("sweep", ok=False)
    return Check("sweep", ok=_within(lag, settings.JINSHAO_READY_SWEEP_LAG_SECONDS), lag=lag)


def _within(lag: float, limit: float) -> bool:
    return limit <= 0 or lag <= limit  # a limit of 0 turns the check off


def _audit_queue_check() -> Check:
    """The oldest pending audit record's age against ``JINSHAO_AUDIT_PENDING_MAX_SECONDS``."""
    from audit.services import pending_status

    _, lag = pending_status()
    return Check(
        "audit_queue", ok=_within(lag, settings.JINSHAO_AUDIT_PENDING_MAX_SECONDS), lag=lag
    )


def _audit_head_verifies() -> bool:
    from audit.models import ChainHead
    from audit.services import anchor_signature, head_signature

    head = ChainHead.objects.filter(pk=1).first()
    if head is None:
        return False
    return hmac.compare_digest(
        head.signature, head_signature(head.digest, head.sequence, head.last_id)
    ) and hmac.compare_digest(
        head.anchor_signature,
        anchor_signature(head.anchor, head.first_sequence, head.purge_sequence),
    )


# Redis, the channel layer, the storage.


def _uses_redis_cache() -> bool:
    return settings.CACHES["default"]["BACKEND"].endswith("RedisCache")


def _uses_redis_channel_layer() -> bool:
    layer = getattr(settings, "CHANNEL_LAYERS", {}).get("default", {})
    return "channels_redis" in str(layer.get("BACKEND", ""))


@functools.cache
def _redis_client(location: str):
    import redis

    timeout = settings.JINSHAO_HEALTH_TIMEOUT_SECONDS
    return redis.Redis.from_url(location, socket_timeout=timeout, socket_connect_timeout=timeout)


def _redis_ping() -> None:
    location = settings.CACHES["default"]["LOCATION"]
    if isinstance(location, list | tuple):
        location = location[0]
    if not _redis_client(str(location)).ping():
        raise ConnectionError("no PONG")


def _channel_layer_send() -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        raise LookupError("no channel layer")

    async def send() -> None:
        channel = await layer.new_channel("health.")
        await asyncio.wait_for(
            layer.send(channel, {"type": "health.ping"}),
            timeout=settings.JINSHAO_HEALTH_TIMEOUT_SECONDS,
        )

    async_to_sync(send)()


def _storage_reachable() -> None:
    from django.core.files.storage import default_storage

    future = _storage_pool.submit(default_storage.exists, STORAGE_PROBE_NAME)
    future.result(timeout=settings.JINSHAO_HEALTH_TIMEOUT_SECONDS)


# Who may see the details.


def is_trusted(request) -> bool:
    """True for a caller shown each check: a listed private address, or the health token.

    The address is ``core.client.client_address`` (the proxies of
    ``JINSHAO_TRUSTED_PROXIES`` accounted for). With no trusted proxy configured,
    a request carrying ``X-Forwarded-For`` came through a proxy we do not know
    of and is never trusted by its address (the proxy's own address would be).
    Only loopback or private addresses in ``JINSHAO_HEALTH_ALLOWED_ADDRESSES``
    (addresses or networks) count.
    """
    token = settings.JINSHAO_HEALTH_TOKEN
    offered = request.headers.get("X-Health-Token", "")
    if token and offered and hmac.compare_digest(offered.encode(), token.encode()):
        return True
    if settings.JINSHAO_TRUSTED_PROXIES == 0 and request.META.get("HTTP_X_FORWARDED_FOR"):
        return False
    try:
        address = ipaddress.ip_address(client_address(request) or "")
    except ValueError:
        return False
    if not (address.is_loopback or address.is_private):
        return False
    return any(address in network for network in _allowed_networks())


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for entry in settings.JINSHAO_HEALTH_ALLOWED_ADDRESSES:
        try:
            networks.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError:
            logger.warning("JINSHAO_HEALTH_ALLOWED_ADDRESSES: %r is no address", entry)
    return networks
