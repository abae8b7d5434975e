"""Signal receivers: thin hand-offs to the services."""

from notifications import services


def notify_for_event(sender, *, case, event, batched: bool = False, **kwargs) -> None:
    if batched:  # written with its batch by notify_for_events
        return
    services.notify_for_event(event, fresh=True)  # just inserted by record_event


def notify_for_events(sender, *, case, events, **kwargs) -> None:
    services.notify_for_events(events)  # just inserted by record_events
