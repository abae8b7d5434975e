"""Signal receivers: thin hand-offs to the services."""

from chat import services


def post_system_message(sender, *, case, event, **kwargs) -> None:
    services.post_system_message(event)
