"""Periodic jobs run by the server process itself (embedded default, no Celery beat).

``CELERY_BEAT_SCHEDULE`` is the one list of periodic jobs: Celery beat runs it
in production; here a daemon thread runs the same tasks in-process at the same
intervals. Each job is idempotent (the sweep records every step once, the
outbox leases each message), so an overlap with a ``manage.py`` run is safe.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connections

logger = logging.getLogger("jinshao.scheduler")

_started = threading.Lock()
_thread: threading.Thread | None = None
_stop = threading.Event()


def interval_seconds(schedule) -> float:
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    if isinstance(schedule, int | float):
        return float(schedule)
    return float(schedule.run_every.total_seconds())  # celery.schedules.schedule


def run_job(name: str) -> None:
    """Run one periodic task now, in this process; a failure is recorded, never raised."""
    from config.celery import app
    from core.services import record_task_failure

    app.loader.import_default_modules()  # the apps' tasks.py (autodiscovery is lazy)
    task = app.tasks[name]
    try:
        task.apply(throw=True)
    except Exception as exc:  # noqa: BLE001 (kept for the administrators, then carry on)
        record_task_failure(name=name, task_id="in-process", arguments={}, error=exc)


def run_forever(stop: threading.Event) -> None:
    """Run each periodic job at its interval until ``stop`` is set."""
    jobs: dict[str, float] = {
        str(entry["task"]): interval_seconds(entry["schedule"])
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    due = dict.fromkeys(jobs, time.monotonic() + settings.JINSHAO_SCHEDULER_DELAY_SECONDS)
    try:
        _run_due(jobs, due, stop)
    finally:
        connections.close_all()  # this thread's connections; they would outlive it


def _run_due(jobs: dict[str, float], due: dict[str, float], stop: threading.Event) -> None:
    while not stop.is_set():
        now = time.monotonic()
        for name, every in jobs.items():
            if now >= due[name]:
                close_old_connections()  # this thread's own, as a request would
                run_job(name)
                close_old_connections()
                due[name] = time.monotonic() + every
        stop.wait(1.0)


def start() -> threading.Thread | None:
    """Start the in-process scheduler once per process (when ``JINSHAO_INPROCESS_SCHEDULER``)."""
    global _thread
    if not settings.JINSHAO_INPROCESS_SCHEDULER:
        return None
    with _started:
        if _thread is None or not _thread.is_alive():
            _stop.clear()
            _thread = threading.Thread(
                target=run_forever, args=(_stop,), name="jinshao-scheduler", daemon=True
            )
            _thread.start()
            logger.info("in-process scheduler started")
    return _thread


def stop(timeout: float = 5.0) -> None:
    """Stop the in-process scheduler (the server is shutting down)."""
    _stop.set()
    if _thread is not None:
        _thread.join(timeout)
