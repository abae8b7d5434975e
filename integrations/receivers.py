"""Signal receivers: thin hand-offs to the services and tasks."""

from django.conf import settings

from integrations import services


def queue_status(sender, *, case, event, **kwargs) -> None:
    message = services.queue_status(event)
    if message is not None:
        event._outbound_id = message.pk  # read by send_soon after commit


def send_soon(sender, *, case, event, **kwargs) -> None:
    """With a Celery broker, send at once; in-process, the scheduler's next run sends it
    (never inside the person's request: a slow platform must not slow them down)."""
    message_id = getattr(event, "_outbound_id", None)
    if message_id is None or settings.CELERY_TASK_ALWAYS_EAGER:
        return
    from integrations.tasks import deliver_outbound

    deliver_outbound.delay(message_id)
