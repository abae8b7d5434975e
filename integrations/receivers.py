"""Signal receivers: thin hand-offs to the services."""

from integrations import services


def queue_status(sender, *, case, event, **kwargs) -> None:
    services.queue_status(event)
