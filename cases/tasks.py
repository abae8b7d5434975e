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
