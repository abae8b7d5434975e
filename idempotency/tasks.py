"""Periodic clean-up of kept answers (Celery beat in production, core.scheduler in-process)."""

from celery import shared_task

from idempotency import services


@shared_task(
    name="idempotency.purge_expired",
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=3,
)
def purge_expired() -> int:
    """Delete the answers kept past ``JINSHAO_IDEMPOTENCY_KEY_HOURS`` (idempotent)."""
    return services.purge_expired()
