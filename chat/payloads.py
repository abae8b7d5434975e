"""A message as phones receive it, over HTTP and over the socket alike."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from cases.choices import EventKind
from cases.models import CaseEvent
from chat.choices import MessageKind
from chat.models import Message

#: Steps of a case that appear in its room, and how they read there.
SYSTEM_TEXTS = {
    EventKind.SUBMITTED: lambda: _("%(who)s submitted the case for review."),
    EventKind.APPROVED: lambda: _("%(who)s approved the case and dispatched it."),
    EventKind.SENT_BACK: lambda: _("%(who)s sent the case back: %(note)s"),
    EventKind.INVITED: lambda: _("%(who)s invited %(person)s (%(department)s)."),
    EventKind.ACCEPTED: lambda: _("%(who)s (%(department)s) accepted the case."),
    EventKind.DECLINED: lambda: _("%(who)s (%(department)s) declined: %(note)s"),
    EventKind.ALL_DECLINED: lambda: _("Everyone invited declined: someone else must be invited."),
    EventKind.WITHDRAWN: lambda: _(
        "%(who)s withdrew the invitation of %(person)s (%(department)s): %(note)s"
    ),
    EventKind.COMPLETED: lambda: _("%(who)s marked the case completed."),
    EventKind.REOPENED: lambda: _("%(who)s reopened the case: %(note)s"),
    EventKind.CANCELLED: lambda: _("%(who)s cancelled the case: %(note)s"),
    EventKind.CLOSED: lambda: _("The case is closed: every department has been rated."),
    EventKind.REMINDED: lambda: _("Reminder: this case waits for action."),
    EventKind.ESCALATED: lambda: _("Not handled in time: escalated to the grid leader."),
    EventKind.OVERDUE: lambda: _("The case is past its handling deadline."),
    EventKind.SUPERVISED: lambda: _("%(who)s issued a supervision order: %(note)s"),
    EventKind.SUPERVISION_ANSWERED: lambda: _("%(who)s answered the supervision order: %(note)s"),
    EventKind.EXTENSION_REQUESTED: lambda: _("%(who)s asked for more time: %(note)s"),
    EventKind.EXTENSION_APPROVED: lambda: _("%(who)s approved the extension."),
    EventKind.EXTENSION_REFUSED: lambda: _("%(who)s refused the extension: %(note)s"),
    EventKind.RETURNED: lambda: _("%(who)s (%(department)s) returned the case: %(note)s"),
    EventKind.REDISPATCHED: lambda: _("%(who)s dispatched the case again."),
}


def system_text(event: CaseEvent) -> str:
    """The room's line for a step of the case, in the active language."""
    data = event.data or {}
    template = SYSTEM_TEXTS.get(EventKind(event.kind))
    if template is None:
        return str(event.get_kind_display())
    return template() % {
        "who": str(event.actor) if event.actor_id else _("The system"),
        "person": data.get("person", ""),
        "department": data.get("department", ""),
        "note": event.note,
    }


def attachment_url(message: Message) -> str:
    return reverse("api:message-attachment", args=[message.pk])


def message_payload(message: Message) -> dict:
    """Plain data (JSON- and msgpack-safe); needs ``sender``, ``attachment``, ``event__actor``."""
    attachment = message.attachment if message.attachment_id else None
    event = message.event if message.event_id else None
    sender = message.sender if message.sender_id else None
    return {
        "id": message.pk,
        "case": message.case_id,
        "kind": message.kind,
        "sender": {"id": sender.pk, "name": str(sender)} if sender is not None else None,
        "text": system_text(event)
        if message.kind == MessageKind.SYSTEM and event
        else message.text,
        "attachment": (
            {
                "url": attachment_url(message),
                "content_type": attachment.content_type,
                "size": attachment.size,
                "width": attachment.width,
                "height": attachment.height,
                "duration_ms": attachment.duration_ms,
            }
            if attachment is not None
            else None
        ),
        "event": (
            {"id": event.pk, "kind": event.kind, "note": event.note} if event is not None else None
        ),
        "client_id": message.client_id,
        "created_at": message.created_at.isoformat(),
    }
