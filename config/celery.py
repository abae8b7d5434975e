"""The Celery application (production: Redis broker, ``bin/worker`` and ``bin/beat``).

In the embedded default there is no broker: tasks run in-process
(``CELERY_TASK_ALWAYS_EAGER``) and ``core.scheduler`` runs the periodic jobs
from the server process, so the demo chases deadlines with no extra service.
"""

import logging
import os
import time
from contextvars import Token

from celery import Celery
from celery.signals import (
    before_task_publish,
    task_failure,
    task_postrun,
    task_prerun,
    worker_process_init,
)

from core import requestid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("jinshao")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def forget_inherited_connection_pools(**_kwargs) -> None:
    """A forked worker child starts its own PostgreSQL pool (``JINSHAO_DB_POOL_MAX``).

    Had the parent opened a pool before forking, the child would hold copies of the
    parent's sockets and borrow connections the parent and its siblings also use.
    The child forgets that pool without closing it (closing would end the parent's
    sessions) and opens its own on first use. Celery's own fixup already does the same
    for the thread's connection.
    """
    from django.db.backends.postgresql.base import DatabaseWrapper

    DatabaseWrapper._connection_pools.clear()  # type: ignore[attr-defined]  # Django 5.1+, untyped


@task_failure.connect
def _record_failure(sender=None, task_id=None, exception=None, args=None, kwargs=None, **extra):
    """A task that failed for good (after its retries) is kept for the administrators."""
    from core.services import record_task_failure

    record_task_failure(
        name=getattr(sender, "name", str(sender)),
        task_id=task_id or "",
        arguments={"args": list(args or []), "kwargs": dict(kwargs or {})},
        error=exception,
    )


# The request id (core.requestid) travels with each task: put in the message's
# headers when it is sent, current while the task runs, cleared after; and one
# log line per task run (jinshao.task).
task_logger = logging.getLogger("jinshao.task")
_running: dict[str, tuple[Token[str | None], float]] = {}


@before_task_publish.connect
def _carry_request_id(sender=None, headers=None, **extra):
    """Sending a task: the current request id goes in its ``jinshao_request_id`` header."""
    rid = requestid.get()
    if rid and headers is not None:
        headers.setdefault(requestid.TASK_HEADER, rid)


def _header_request_id(task) -> str | None:
    request = getattr(task, "request", None)
    headers = getattr(request, "headers", None) or {}
    value = headers.get(requestid.TASK_HEADER) or getattr(request, requestid.TASK_HEADER, None)
    return requestid.clean(value) if value else None


@task_prerun.connect
def _restore_request_id(sender=None, task_id=None, task=None, **extra):
    """A task starts: the id it was sent with, else the caller's (run in-process), else new."""
    rid = _header_request_id(task) or requestid.get() or requestid.new()
    _running[task_id or ""] = (requestid.set_current(rid), time.monotonic())


@task_postrun.connect
def _log_and_clear_request_id(sender=None, task_id=None, task=None, state=None, **extra):
    """A task ended: one line (name, id, state, duration), then the id is cleared."""
    token, started = _running.pop(task_id or "", (None, time.monotonic()))
    task_logger.info(
        "task",
        extra={
            "task": getattr(task, "name", str(sender)),
            "task_id": task_id,
            # None: the error was raised to an in-process caller (eager, throw): a failure.
            "state": state or "FAILURE",
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
        },
    )
    if token is not None:
        try:
            requestid.reset(token)
        except ValueError:  # set in another context (never in a worker): clear it here
            requestid.set_current(None)
