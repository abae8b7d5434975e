"""Prometheus metrics: what the operator's dashboard (docs/grafana-dashboard.json) plots.

Counted as things happen (in every process that does them):

- ``jinshao_http_requests_total{method, route, status}`` and
  ``jinshao_http_request_duration_seconds{method, route}`` (seconds), by
  :class:`MetricsMiddleware`; ``jinshao_http_errors_total{method, route}``
  counts the 5xx answers. ``route`` is the URL pattern that matched
  (``api/v1/cases/<int:pk>/``), never the path with its ids, so the number of
  series is bounded by the number of routes; ``<unmatched>`` for a path no
  route matched.
- ``jinshao_case_transitions_total{kind}``: case timeline events once
  committed (receiver of ``cases.signals.case_event_recorded``).
- ``jinshao_chat_messages_total{kind}``: chat messages saved (``post_save`` of
  ``chat.Message``, counted on commit).
- ``jinshao_open_sockets{kind}``: sockets open now, ``room`` or
  ``notifications`` (``core.sockets.JsonSocket`` calls :func:`socket_opened`
  and :func:`socket_closed`).
- ``jinshao_celery_task_failures_total{task}``: Celery's ``task_failure``.
- ``jinshao_login_failures_total`` and ``jinshao_lockouts_total``: Django's
  ``user_login_failed`` and django-axes' ``user_locked_out``.

Computed when scraped (:class:`StateCollector`, a few indexed queries):
``jinshao_outbox_pending``, ``jinshao_outbox_oldest_pending_age_seconds``,
``jinshao_audit_pending``, ``jinshao_audit_oldest_pending_age_seconds`` (audit
records waiting for the sequencer, and how long the oldest has),
``jinshao_sweep_lag_seconds`` and ``jinshao_celery_queue_length{queue}``.

Several processes: with ``PROMETHEUS_MULTIPROC_DIR`` set (before Python
starts), every process writes its values to files there and ``/metrics``
(``core.views_metrics``) adds them up with prometheus_client's
``MultiProcessCollector``; the directory must be emptied before the processes
start (docs/deploy.md). Without it, each process answers for itself.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

UNMATCHED = "<unmatched>"

HTTP_REQUESTS = Counter(
    "jinshao_http_requests",
    "HTTP requests answered, by method, URL pattern and status code.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "jinshao_http_request_duration_seconds",
    "Time to answer an HTTP request (seconds), by method and URL pattern.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
HTTP_ERRORS = Counter(
    "jinshao_http_errors",
    "HTTP requests answered with a server error (5xx), by method and URL pattern.",
    ["method", "route"],
)
CASE_TRANSITIONS = Counter(
    "jinshao_case_transitions",
    "Case timeline events committed, by event kind.",
    ["kind"],
)
CHAT_MESSAGES = Counter(
    "jinshao_chat_messages",
    "Chat messages posted, by message kind.",
    ["kind"],
)
OPEN_SOCKETS = Gauge(
    "jinshao_open_sockets",
    "WebSockets open now, by kind (room, notifications).",
    ["kind"],
    multiprocess_mode="livesum",
)
TASK_FAILURES = Counter(
    "jinshao_celery_task_failures",
    "Celery tasks that failed, by task name.",
    ["task"],
)
LOGIN_FAILURES = Counter("jinshao_login_failures", "Failed login attempts.")
LOCKOUTS = Counter("jinshao_lockouts", "Lock-outs after repeated failed logins (django-axes).")

#: consumer module → socket kind label
SOCKET_KINDS = {"chat.consumers": "room", "notifications.consumers": "notifications"}


# ------------------------------------------------------------------ requests


def route_of(request) -> str:
    """The URL pattern ``request`` matched (``core.routes.url_pattern``), or ``<unmatched>``."""
    from core.routes import url_pattern

    return url_pattern(request) or UNMATCHED


def observe_request(request, status: int, seconds: float) -> None:
    """Count one answered request: ``status`` its HTTP code, ``seconds`` its duration."""
    method = request.method if request.method in KNOWN_METHODS else "other"
    route = route_of(request)
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_LATENCY.labels(method, route).observe(seconds)
    if status >= 500:
        HTTP_ERRORS.labels(method, route).inc()


KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class MetricsMiddleware:
    """Times and counts every request (first in ``MIDDLEWARE``: it sees the final answer).

    Works in both the WSGI and the ASGI handler without a thread hop.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        from asgiref.sync import iscoroutinefunction, markcoroutinefunction

        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        started = time.perf_counter()
        response = self.get_response(request)
        observe_request(request, response.status_code, time.perf_counter() - started)
        return response

    async def __acall__(self, request):
        started = time.perf_counter()
        response = await self.get_response(request)
        observe_request(request, response.status_code, time.perf_counter() - started)
        return response


# ------------------------------------------------------------------ sockets


def socket_kind(consumer: Any) -> str:
    """``room``, ``notifications`` or ``other``, from the consumer's module."""
    return SOCKET_KINDS.get(type(consumer).__module__, "other")


def socket_opened(consumer: Any) -> None:
    """A socket was accepted."""
    OPEN_SOCKETS.labels(socket_kind(consumer)).inc()


def socket_closed(consumer: Any) -> None:
    """An accepted socket went away."""
    OPEN_SOCKETS.labels(socket_kind(consumer)).dec()


# ------------------------------------------------------------------ receivers


def count_case_event(sender, *, event, **kwargs) -> None:
    """Receiver of ``case_event_recorded`` (after commit)."""
    CASE_TRANSITIONS.labels(event.kind).inc()


def count_chat_message(sender, instance, created: bool = False, **kwargs) -> None:
    """Receiver of ``post_save`` for ``chat.Message``: counted once the row commits."""
    if created:
        kind = instance.kind
        transaction.on_commit(lambda: CHAT_MESSAGES.labels(kind).inc())


def count_task_failure(sender=None, **kwargs) -> None:
    """Receiver of Celery's ``task_failure``."""
    TASK_FAILURES.labels(getattr(sender, "name", None) or "unknown").inc()


def count_login_failure(sender, **kwargs) -> None:
    """Receiver of ``user_login_failed``."""
    LOGIN_FAILURES.inc()


def count_lockout(sender, **kwargs) -> None:
    """Receiver of axes' ``user_locked_out``."""
    LOCKOUTS.inc()


def connect_receivers() -> None:
    """Wire the receivers above (``CoreConfig.ready``)."""
    from axes.signals import user_locked_out
    from celery.signals import task_failure
    from django.contrib.auth.signals import user_login_failed
    from django.db.models.signals import post_save

    from cases.signals import case_event_recorded

    case_event_recorded.connect(count_case_event, dispatch_uid="metrics.case_event")
    post_save.connect(count_chat_message, sender="chat.Message", dispatch_uid="metrics.message")
    task_failure.connect(count_task_failure, weak=False, dispatch_uid="metrics.task_failure")
    user_login_failed.connect(count_login_failure, dispatch_uid="metrics.login_failed")
    user_locked_out.connect(count_lockout, dispatch_uid="metrics.locked_out")


# ------------------------------------------------------------------ at scrape time


class StateCollector(Collector):
    """Gauges read from the database and the broker when ``/metrics`` is scraped."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._outbox()
        yield from self._audit_queue()
        yield self._sweep_lag()
        queue = self._queue_length()
        if queue is not None:
            yield queue

    def _outbox(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import Count, Min

        from integrations.choices import OutboundState
        from integrations.models import OutboundMessage

        row = OutboundMessage.objects.filter(state=OutboundState.PENDING).aggregate(
            pending=Count("id"), oldest=Min("created_at")
        )
        yield GaugeMetricFamily(
            "jinshao_outbox_pending", "Outbound status messages not yet delivered.", row["pending"]
        )
        oldest = row["oldest"]
        age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily(
            "jinshao_outbox_oldest_pending_age_seconds",
            "Age of the oldest undelivered outbound message (seconds; 0 when none).",
            max(age, 0.0),
        )

    def _audit_queue(self) -> Iterator[GaugeMetricFamily]:
        from audit.services import pending_status

        pending, age = pending_status()
        yield GaugeMetricFamily(
            "jinshao_audit_pending", "Audit records waiting for the sequencer (unchained).", pending
        )
        yield GaugeMetricFamily(
            "jinshao_audit_oldest_pending_age_seconds",
            "Age of the oldest audit record waiting for the sequencer (seconds; 0 when none).",
            age,
        )

    def _sweep_lag(self) -> GaugeMetricFamily:
        from core.health import sweep_lag

        try:
            lag = sweep_lag()
        except Exception:  # noqa: BLE001 (the cache is down: readiness says so)
            lag = float("nan")
        return GaugeMetricFamily(
            "jinshao_sweep_lag_seconds",
            "Seconds since the deadline sweep last finished (its heartbeat, as readiness reads it).",
            lag,
        )

    def _queue_length(self) -> GaugeMetricFamily | None:
        url = settings.CELERY_BROKER_URL
        if not url.startswith(("redis://", "rediss://", "unix://")):
            return None
        queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")
        family = GaugeMetricFamily(
            "jinshao_celery_queue_length", "Tasks waiting in the Celery queue.", labels=["queue"]
        )
        try:
            import redis

            client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
            try:
                family.add_metric([queue], float(client.llen(queue)))
            finally:
                client.close()
        except Exception:
            logger.warning("Celery queue length unavailable", exc_info=True)
            return None
        return family


def multiprocess_dir() -> str | None:
    """``PROMETHEUS_MULTIPROC_DIR`` if this process runs in multiprocess mode."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def forget_this_process_at_exit() -> None:
    """In multiprocess mode, drop this process's live gauges (open sockets) when it exits.

    A process killed outright leaves its files behind until the directory is
    emptied at the next start (docs/deploy.md).
    """
    if multiprocess_dir():
        import atexit

        from prometheus_client.multiprocess import mark_process_dead

        atexit.register(lambda: mark_process_dead(os.getpid()))
