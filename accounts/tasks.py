"""Periodic account hygiene (Celery beat in production, core.scheduler in-process)."""

from celery import shared_task

from accounts import services


@shared_task(
    name="accounts.disable_inactive_accounts",
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=3,
)
def disable_inactive_accounts() -> int:
    """Deactivate accounts unused for ``JINSHAO_INACTIVE_DAYS`` (idempotent)."""
    return len(services.disable_inactive_accounts())
