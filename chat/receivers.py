"""Signal receivers: thin hand-offs to the services."""

from django.db import transaction

from cases.choices import EventKind
from chat import selectors, services
from core.realtime import push, room_group

#: Steps after which someone may have left the room: its sockets re-check at once.
#: (A withdrawal is handled by ``services.post_system_message`` itself.)
LEAVING = (EventKind.RETURNED, EventKind.DECLINED)


def post_system_message(sender, *, case, event, batched: bool = False, **kwargs) -> None:
    if batched:  # posted with its batch by post_system_messages
        return
    services.post_system_message(event)
    _recheck_if_leaving(event)


def post_system_messages(sender, *, case, events, **kwargs) -> None:
    """A step's several events (``cases.services.record_events``): their lines in one INSERT."""
    services.post_system_messages(events)
    for event in events:
        _recheck_if_leaving(event)


def _recheck_if_leaving(event) -> None:
    if event.kind in LEAVING:
        case_id = event.case_id

        def recheck() -> None:
            selectors.forget_members(case_id)
            push(room_group(case_id), {"type": "room.recheck"})

        transaction.on_commit(recheck, robust=True)
