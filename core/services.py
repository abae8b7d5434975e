"""State changes that belong to no single domain app."""

from __future__ import annotations

import json
import logging

from core.models import FailedTask

logger = logging.getLogger("jinshao.tasks")


def record_task_failure(*, name: str, task_id: str, arguments: dict, error) -> FailedTask:
    """Keep a task that failed for good, and log it (the administrators see it in the admin)."""
    safe = json.loads(json.dumps(arguments, default=str))
    logger.error("background task %s (%s) failed: %r", name, task_id, error)
    return FailedTask.objects.create(
        name=name[:200], task_id=task_id[:64], arguments=safe, error=repr(error)[:5000]
    )
