"""Who is told what when a case moves, and marking things read.

``notify_for_event`` runs inside the transaction that records the case event,
so the inbox never disagrees with the timeline. The person who acted is never
told about their own action.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.selectors import commander_ids_over, role_holder_ids_over
from cases.choices import CaseState, EventKind, InvitationState
from cases.models import Case, CaseEvent
from core.errors import PermissionDenied
from core.realtime import push_many, user_group
from notifications.choices import NotificationKind
from notifications.models import Notification

_LIVE = (CaseState.DISPATCHED, CaseState.IN_PROGRESS)


def _commanders(case: Case) -> set[int]:
    return commander_ids_over(case.community)


def _invitees(case: Case, *states: str) -> set[int]:
    return set(case.invitations.filter(state__in=states).values_list("person_id", flat=True))


def _after_dispatch(event: CaseEvent) -> bool:
    case = event.case
    return (
        case.state in _LIVE
        and case.dispatched_at is not None
        and event.created_at >= case.dispatched_at
    )


def _handlers(case: Case) -> set[int]:
    """Who must act now: the accepted invitees, or while nobody accepted, the pending ones."""
    return _invitees(case, InvitationState.ACCEPTED) or _invitees(case, InvitationState.PENDING)


def _supervision(event: CaseEvent) -> list[tuple[set[int], str]]:
    """Recipients of the sweep's and supervisors' events."""
    case, kind, data = event.case, event.kind, event.data or {}
    told = set(data.get("notify") or [])
    if kind == EventKind.REMINDED:
        return [(_handlers(case), NotificationKind.REMINDED)]
    if kind == EventKind.ESCALATED:
        leaders = role_holder_ids_over(case.community, Role.GRID_LEADER)
        return [(leaders | _commanders(case), NotificationKind.ESCALATED)]
    if kind == EventKind.OVERDUE:
        return [(_handlers(case) | {case.caller_id} | _commanders(case), NotificationKind.OVERDUE)]
    if kind == EventKind.SUPERVISED:
        return [(_handlers(case) | _commanders(case), NotificationKind.SUPERVISED)]
    if kind == EventKind.SUPERVISION_ANSWERED:
        return [(told, NotificationKind.SUPERVISION_ANSWERED)]
    if kind == EventKind.EXTENSION_REQUESTED:
        return [(_commanders(case), NotificationKind.EXTENSION_REQUESTED)]
    if kind in (EventKind.EXTENSION_APPROVED, EventKind.EXTENSION_REFUSED):
        return [(told, NotificationKind.EXTENSION_DECIDED)]
    if kind == EventKind.RETURNED:
        return [({case.caller_id} | _commanders(case), NotificationKind.RETURNED)]
    if kind == EventKind.CREATED and data.get("via"):
        return [({case.caller_id}, NotificationKind.IMPORTED)]
    return []


def recipients(event: CaseEvent) -> list[tuple[int, str]]:
    """``(user id, notification kind)`` pairs an event calls for."""
    case, kind = event.case, event.kind
    out: list[tuple[set[int], str]] = _supervision(event)
    if kind == EventKind.SUBMITTED:
        out.append((_commanders(case), NotificationKind.TO_REVIEW))
    elif kind == EventKind.APPROVED:
        out.append(({case.caller_id}, NotificationKind.DISPATCHED))
        out.append((_invitees(case, InvitationState.PENDING), NotificationKind.INVITED))
    elif kind == EventKind.INVITED and event.invitation is not None and _after_dispatch(event):
        # Invitations made while drafting are announced when the case is dispatched.
        out.append(({event.invitation.person_id}, NotificationKind.INVITED))
    elif kind == EventKind.ACCEPTED:
        out.append(({case.caller_id}, NotificationKind.ACCEPTED))
    elif kind == EventKind.DECLINED:
        out.append(({case.caller_id}, NotificationKind.DECLINED))
    elif kind == EventKind.ALL_DECLINED:
        out.append(({case.caller_id} | _commanders(case), NotificationKind.ALL_DECLINED))
    elif kind == EventKind.SENT_BACK:
        out.append(({case.caller_id}, NotificationKind.SENT_BACK))
    elif kind == EventKind.COMPLETED:
        out.append((_invitees(case, InvitationState.ACCEPTED), NotificationKind.COMPLETED))
    elif kind == EventKind.REOPENED:
        out.append((_invitees(case, InvitationState.ACCEPTED), NotificationKind.REOPENED))
    elif kind == EventKind.WITHDRAWN and event.invitation is not None:
        out.append(({event.invitation.person_id}, NotificationKind.WITHDRAWN))
    elif kind == EventKind.CANCELLED and event.from_state in _LIVE:
        people = _invitees(case, InvitationState.PENDING, InvitationState.ACCEPTED)
        out.append((people, NotificationKind.CANCELLED))
    return [
        (user_id, notification_kind)
        for people, notification_kind in out
        for user_id in sorted(people)
        if user_id and user_id != event.actor_id
    ]


def notify_for_event(
    event: CaseEvent, *, push: bool = True, fresh: bool = False
) -> list[Notification]:
    """Write the notifications ``event`` calls for (idempotent: replays add nothing).

    ``push=False`` writes the inbox only (back-filling, where nobody is listening).
    ``fresh=True``: ``event`` was inserted by this very transaction (``record_event``'s
    signal), so none of its notifications can exist yet: one plain INSERT whose rows come
    back with their ids, pushed as built (their case and event are the instances the
    service holds), not read again. A replay (``fresh=False``) skips the rows that exist
    and pushes what the database then holds.
    """
    rows = _rows_for(event)
    if not rows:
        return rows
    if fresh:
        Notification.objects.bulk_create(rows)
        if push and all(r.pk is not None for r in rows):
            transaction.on_commit(lambda: push_notifications(rows))
            return rows
    else:
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if push:
        written = list(
            Notification.objects.filter(
                event=event, recipient_id__in=[r.recipient_id for r in rows]
            ).select_related("case", "event__actor")
        )
        transaction.on_commit(lambda: push_notifications(written))
    return rows


def _rows_for(event: CaseEvent) -> list[Notification]:
    """The notifications ``event`` calls for, built, not saved (one per recipient and kind)."""
    seen: set[tuple[int, str]] = set()
    rows = []
    for user_id, kind in recipients(event):
        if (user_id, kind) in seen:
            continue
        seen.add((user_id, kind))
        rows.append(
            Notification(
                recipient_id=user_id,
                kind=kind,
                case=event.case,
                event=event,
                created_at=event.created_at,
            )
        )
    return rows


def notify_for_events(events: list[CaseEvent]) -> list[Notification]:
    """``notify_for_event(event, fresh=True)`` for several fresh events of one step: one
    INSERT for all their notifications, pushed as built after the commit."""
    rows = [row for event in events for row in _rows_for(event)]
    if rows:
        Notification.objects.bulk_create(rows)
        transaction.on_commit(lambda: push_notifications(rows))
    return rows


def push_notifications(notifications: list[Notification]) -> None:
    """Send each notification to its recipient's live feed (``/ws/notifications/``)."""
    from notifications.api.serializers import NotificationSerializer

    with translation.override(settings.LANGUAGE_CODE):
        pushes = [
            (
                user_group(notification.recipient_id),
                {
                    "type": "notification.new",
                    "notification": dict(NotificationSerializer(notification).data),
                },
            )
            for notification in notifications
        ]
    push_many(pushes)


def mark_read(notification: Notification, *, actor) -> Notification:
    """Mark one of the actor's own notifications read (reading it twice is harmless)."""
    if notification.recipient_id != actor.pk:
        raise PermissionDenied(_("This notification is not yours."))
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


@transaction.atomic
def mark_all_read(*, actor) -> int:
    """Mark every unread notification of the actor read; returns how many."""
    return Notification.objects.unread().filter(recipient=actor).update(read_at=timezone.now())
