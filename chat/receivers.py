"""Signal receivers: thin hand-offs to the services."""

from django.db import transaction

from cases.choices import EventKind
from chat import selectors, services
from core.realtime import push, room_group

#: Steps after which someone may have left the room: its sockets re-check at once.
#: (A withdrawal is handled by ``services.post_system_message`` itself.)
LEAVING = (EventKind.RETURNED, EventKind.DECLINED)


def post_system_message(sender, *, case, event, **kwargs) -> None:
    services.post_system_message(event)
    if event.kind in LEAVING:
        case_id = event.case_id

        def recheck() -> None:
            selectors.forget_members(case_id)
            push(room_group(case_id), {"type": "room.recheck"})

        transaction.on_commit(recheck, robust=True)
