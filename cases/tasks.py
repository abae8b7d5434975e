"""The deadline sweep as a periodic task (Celery beat, or core.scheduler in-process)."""

from celery import shared_task

from cases import services
from core.health import record_sweep


@shared_task(
    name="cases.sweep_deadlines",
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=3,
)
def sweep_deadlines() -> int:
    """Remind, mark overdue, escalate (each step once; safe to overlap); steps taken."""
    steps = services.sweep_deadlines().total
    record_sweep()  # the heartbeat /health/ready reads (core.health)
    return steps


@shared_task(name="cases.purge_expired_uploads")
def purge_expired_uploads() -> int:
    """Delete the phone's photo uploads no case took before they expired (files included);
    how many. Hourly on the beat schedule (``CELERY_BEAT_SCHEDULE``)."""
    from cases.uploads import purge_expired_uploads as purge

    return purge()
