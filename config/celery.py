"""The Celery application (production: Redis broker, ``bin/worker`` and ``bin/beat``).

In the embedded default there is no broker: tasks run in-process
(``CELERY_TASK_ALWAYS_EAGER``) and ``core.scheduler`` runs the periodic jobs
from the server process, so the demo chases deadlines with no extra service.
"""

import os

from celery import Celery
from celery.signals import task_failure

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("jinshao")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


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
