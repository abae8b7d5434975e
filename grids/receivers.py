"""Signal receivers: what follows a change of the area tree.

Who commands a case follows from the area tree (a commander's role covers a
grid; ``cases.permissions.is_commander_of``). Moving an area under another
parent therefore changes the people of every case in its subtree without any
step of the case: the rooms of those cases re-check every open socket.
"""

from __future__ import annotations

from django.db import transaction

from core.realtime import push_many, room_group


def remember_path(sender, instance, raw=False, **kwargs) -> None:
    """Before an area is saved: keep its stored path to compare."""
    instance._jinshao_old_path = None
    if instance.pk is not None and not raw:
        instance._jinshao_old_path = instance.path_in_db()


def recheck_rooms_on_move(sender, instance, created=False, raw=False, **kwargs) -> None:
    """After an area is saved under a new path (moved or recoded): after the commit, the
    rooms of every case in its subtree re-check who may stay (``room.recheck``)."""
    old = getattr(instance, "_jinshao_old_path", None)
    instance._jinshao_old_path = None
    if created or raw or not old or old == instance.path:
        return
    new_path = instance.path

    def recheck() -> None:
        from cases.models import Case
        from chat import selectors

        case_ids = list(
            Case.objects.filter(community__path__startswith=new_path).values_list("pk", flat=True)
        )
        for case_id in case_ids:
            selectors.forget_members(case_id)
        push_many([(room_group(case_id), {"type": "room.recheck"}) for case_id in case_ids])

    transaction.on_commit(recheck, robust=True)
