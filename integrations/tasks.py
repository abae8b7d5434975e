"""Background work of the integration: one delivery, and the periodic outbox flush."""

from celery import shared_task

from integrations import services


@shared_task(name="integrations.deliver_outbound", ignore_result=True)
def deliver_outbound(message_id: int) -> bool:
    """One try; a failure is recorded on the message and retried by ``flush_outbox``."""
    return services.deliver(message_id)


@shared_task(
    name="integrations.flush_outbox",
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=3,
)
def flush_outbox() -> int:
    """Every due message, oldest first; and forget signatures past the replay window."""
    services.forget_old_signatures()
    return services.deliver_due()
