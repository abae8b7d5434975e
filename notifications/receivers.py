"""Signal receivers: thin hand-offs to the services."""

from notifications import services


def notify_for_event(sender, *, case, event, **kwargs) -> None:
    services.notify_for_event(event)
