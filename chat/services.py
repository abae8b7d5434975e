"""Everything that writes to a case's room: messages, attachments, system lines, read marks.

A message is saved first, while the case row is locked, so ids grow in
commit order within a case. It is broadcast after the commit. If the live
push fails (Redis down), the message stays saved. The sender is told it was
not delivered live, and everyone else gets it when they resume.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cases.choices import CaseState, EventKind
from cases.models import Case, CaseEvent
from cases.services import state_label
from chat import media, presence, selectors
from chat.choices import ATTACHMENT_KINDS, MessageKind
from chat.models import Attachment, Message, ReadState
from chat.payloads import SYSTEM_TEXTS, message_payload
from core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from core.realtime import push, push_many, room_group, user_group

logger = logging.getLogger(__name__)


@dataclass
class Posted:
    """What became of a message: saved (new or found again) and whether it went out live."""

    message: Message
    created: bool
    delivered: bool | None = None  # None: not pushed (yet, or left to the caller)
    #: With ``deliver=False``: the pushes the caller makes itself (a socket, natively async).
    pushes: list[tuple[str, dict]] = field(default_factory=list)


# ------------------------------------------------------------------ checks


#: States in which the case's caller may already attach files (a photo, a voice note) to
#: its room: a case raised from the phone sends its voice notes right after ``POST cases/``,
#: before the commander has dispatched it (issue 14). Texts still wait for the room to open.
RAISING_STATES = (CaseState.DRAFT, CaseState.PENDING_REVIEW)


def _check_can_post(case: Case, user, kind: str = MessageKind.TEXT) -> None:
    """Raise unless ``user`` may post a ``kind`` message in ``case``'s room now.

    Raises ``PermissionDenied`` (not one of the case's people) or
    ``InvalidTransition`` (the room is closed: the case is not dispatched, in
    progress or waiting for its rating; the caller's attachments are also taken
    while the case is a draft or waits for review).
    """
    if not selectors.is_member(case, user):
        raise PermissionDenied(
            _("Only the people working on case %(number)s may write in its room.")
            % {"number": case.number}
        )
    early = (
        kind != MessageKind.TEXT
        and case.state in RAISING_STATES
        and case.caller_id == getattr(user, "pk", None)
    )
    if case.state not in selectors.OPEN_STATES and not early:
        raise InvalidTransition(
            _("The room of case %(number)s is closed: the case is %(state)s.")
            % {"number": case.number, "state": state_label(case.state)}
        )


def _clean_client_id(client_id) -> str:
    client_id = "" if client_id is None else str(client_id).strip()
    if len(client_id) > 64 or not client_id.isprintable():
        raise ValidationFailed(
            _("The message's client id is not valid."),
            fields={"client_id": [_("At most 64 printable characters.")]},
        )
    return client_id


def _clean_text(text, *, required: bool) -> str:
    if text is not None and not isinstance(text, str):
        raise ValidationFailed(
            _("The message's text must be a string."), fields={"text": [_("Expected text.")]}
        )
    text = (text or "").strip()
    limit = settings.JINSHAO_CHAT_MAX_TEXT
    if required and not text:
        raise ValidationFailed(
            _("An empty message cannot be sent."), fields={"text": [_("This field is required.")]}
        )
    if len(text) > limit:
        raise ValidationFailed(
            _("The message is too long: at most %(limit)s characters.") % {"limit": limit},
            fields={"text": [_("At most %(limit)s characters.") % {"limit": limit}]},
        )
    return text


def _existing(case: Case, sender, client_id: str) -> Message | None:
    if not client_id:
        return None
    return Message.objects.filter(case=case, sender=sender, client_id=client_id).first()


# ------------------------------------------------------------------ posting


def post_text(case: Case, *, sender, text, client_id="", deliver: bool = True) -> Posted:
    """Post a text message (a resend with the same ``client_id`` returns the first one).

    With ``deliver=False`` the pushes are returned in ``Posted.pushes`` for the
    caller to send once it has acknowledged the message (the socket does).
    """
    text = _clean_text(text, required=True)
    client_id = _clean_client_id(client_id)
    return _post(
        case,
        sender=sender,
        client_id=client_id,
        kind=MessageKind.TEXT,
        text=text,
        deliver=deliver,
    )


def post_attachment(case: Case, *, sender, kind: str, file, caption="", client_id="") -> Posted:
    """Check an uploaded file by its content, store it, post it (photos get a watermark)."""
    if kind not in ATTACHMENT_KINDS:
        raise ValidationFailed(
            _("Unknown attachment kind."),
            fields={"kind": [_("Choose image, voice, video or file.")]},
        )
    caption = _clean_text(caption, required=False)
    client_id = _clean_client_id(client_id)
    _check_can_post(case, sender, kind)
    found = _existing(case, sender, client_id)
    if found is not None:
        return Posted(found, created=False)
    limit = settings.JINSHAO_UPLOAD_LIMITS[kind]
    size = getattr(file, "size", None)
    if size is not None and size > limit:
        raise ValidationFailed(
            _("The file is larger than %(limit)s.") % {"limit": filesizeformat(limit)},
            fields={"file": [_("At most %(limit)s.") % {"limit": filesizeformat(limit)}]},
        )
    _check_quota(sender, size or 0)
    checked = media.check_upload(kind, file, max_bytes=limit)
    width: int | None
    height: int | None
    if kind == MessageKind.IMAGE:
        font = media.watermark_font()
        stamped = media.watermark_image(
            file, lines=_watermark_lines(case, sender, font), font_path=font
        )
        content = ContentFile(stamped)
        extension, content_type = ".jpg", "image/jpeg"
        # The stored photo's own size: upright and within the bound, whatever the upload said.
        width, height = media.image_size(stamped)
    else:
        file.seek(0)
        content = ContentFile(file.read())
        extension, content_type = checked.extension, checked.content_type
        width, height = checked.width, checked.height
    attachment = Attachment(
        case=case,
        uploader=sender,
        kind=kind,
        content_type=content_type,
        size=content.size,
        width=width,
        height=height,
        duration_ms=checked.duration_ms,
    )
    attachment.file.save(f"upload{extension}", content, save=False)  # storage, not yet the db
    try:
        return _post(
            case,
            sender=sender,
            client_id=client_id,
            kind=kind,
            text=caption,
            attachment=attachment,
        )
    except BaseException:
        attachment.file.delete(save=False)  # nothing half-saved: no orphan file
        raise


def _check_quota(sender, size: int) -> None:
    """At most ``JINSHAO_UPLOAD_QUOTA_BYTES`` uploaded per person in any 24 hours."""
    from datetime import timedelta

    from django.db.models import Sum

    quota = settings.JINSHAO_UPLOAD_QUOTA_BYTES
    if not quota:
        return
    since = timezone.now() - timedelta(hours=24)
    used = (
        Attachment.objects.filter(uploader=sender, created_at__gte=since).aggregate(
            total=Sum("size")
        )["total"]
        or 0
    )
    if used + size > quota:
        raise ValidationFailed(
            _("You have uploaded %(used)s in the last 24 hours: at most %(quota)s.")
            % {"used": filesizeformat(used), "quota": filesizeformat(quota)},
            fields={"file": [_("Upload quota reached; try again later.")]},
        )


def _watermark_lines(case: Case, sender, font: str | None) -> list[str]:
    """Who (their name, or their username where the font cannot draw it), when, which case."""
    name = str(sender)
    who = name if font and media.font_draws(font, name) else sender.get_username()
    when = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    return [who, when, case.number]


def _post(
    case: Case,
    *,
    sender,
    client_id: str,
    kind: str,
    text: str,
    attachment=None,
    deliver: bool = True,
) -> Posted:
    # A resend with a known client id is caught by the unique constraint (and
    # answered below), so the locked path costs no lookup for it.
    outcome = Posted(message=None, created=True)  # type: ignore[arg-type]
    try:
        with transaction.atomic():
            locked = (
                Case.objects.select_for_update(of=("self",))
                .select_related("community")
                .get(pk=case.pk)
            )
            _check_can_post(locked, sender, kind)
            if attachment is not None:
                attachment.save()
            message = Message.objects.create(
                case=locked,
                kind=kind,
                sender=sender,
                text=text,
                attachment=attachment,
                client_id=client_id,
            )
            _read_own(locked, sender, message.pk)
            outcome.message = message

            def after_commit() -> None:
                with translation.override(settings.LANGUAGE_CODE):
                    payload = message_payload(message)
                outcome.pushes = deliveries(message, locked, payload, alert_absent=True)
                if deliver:
                    outcome.delivered = push_many(outcome.pushes)[0]

            transaction.on_commit(after_commit, robust=True)
    except IntegrityError:
        found = _existing(case, sender, client_id)  # a resend (or a racing twin) came first
        if found is None:
            raise
        if attachment is not None:
            attachment.file.delete(save=False)
        return Posted(found, created=False)
    return outcome


def _read_own(case: Case, user, message_id: int) -> None:
    """You have read what you wrote: one upsert (the message is the newest, under the lock)."""
    ReadState.objects.bulk_create(
        [ReadState(case=case, user=user, last_read_id=message_id, updated_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["case", "user"],
        update_fields=["last_read_id", "updated_at"],
    )


def post_system_message(event: CaseEvent) -> Message | None:
    """The room's line for a step of the case; runs inside the step's own transaction.

    ``event`` is the one ``record_event`` has just inserted (``case_event_saved``), so no
    line can exist for it yet: one plain INSERT, not a ``get_or_create`` (a read and a
    savepoint pair). The unique ``event`` column still refuses a second line.
    """
    if EventKind(event.kind) not in SYSTEM_TEXTS:
        return None
    message = Message.objects.create(
        event=event, case_id=event.case_id, kind=MessageKind.SYSTEM, created_at=event.created_at
    )
    _after_system_line(event, message)
    return message


def post_system_messages(events: list[CaseEvent]) -> list[Message]:
    """``post_system_message`` for several fresh events of one step: one INSERT."""
    wanted = [e for e in events if EventKind(e.kind) in SYSTEM_TEXTS]
    messages = Message.objects.bulk_create(
        [
            Message(event=e, case_id=e.case_id, kind=MessageKind.SYSTEM, created_at=e.created_at)
            for e in wanted
        ]
    )
    for event, message in zip(wanted, messages, strict=True):
        _after_system_line(event, message)
    return messages


def _after_system_line(event: CaseEvent, message: Message) -> None:
    """Count the line on the case the service holds (its answer's unread count) and send
    it to the room once the step commits."""
    if CaseEvent.case.is_cached(event):
        held = event.case.__dict__
        held["room_lines_posted"] = held.get("room_lines_posted", 0) + 1
    recheck = event.kind == EventKind.WITHDRAWN
    if event.kind in (EventKind.ACCEPTED, EventKind.WITHDRAWN):
        transaction.on_commit(lambda: selectors.forget_members(event.case_id))

    def deliver() -> None:
        broadcast(message.pk, alert_absent=False)
        if recheck:  # the withdrawn person's sockets leave the room
            push(room_group(event.case_id), {"type": "room.recheck"})

    transaction.on_commit(deliver, robust=True)


# ------------------------------------------------------------------ delivery


def deliveries(message: Message, case: Case, payload: dict, *, alert_absent: bool):
    """The pushes a saved message makes: its room, and members who do not have it open."""
    pushes = [(room_group(case.pk), {"type": "chat.message", "message": payload})]
    if alert_absent:
        members = selectors.cached_member_ids(case) - {message.sender_id}
        absent = members - presence.present(case.pk, members)
        alert = {
            "type": "chat.alert",
            "case": {"id": case.pk, "number": case.number},
            "message": payload,
        }
        pushes += [(user_group(user_id), alert) for user_id in sorted(absent)]
    return pushes


def broadcast(message_id: int, *, alert_absent: bool) -> bool:
    """Push a saved message (read back from the database) to its room; True if it went out."""
    message = Message.objects.select_related(
        "sender", "attachment", "event__actor", "case__community"
    ).get(pk=message_id)
    with translation.override(settings.LANGUAGE_CODE):
        payload = message_payload(message)
    return push_many(deliveries(message, message.case, payload, alert_absent=alert_absent))[0]


# ------------------------------------------------------------------ reading


def history(case: Case, *, after: int = 0, before: int | None = None, limit: int = 100):
    """Messages after ``after`` (oldest first), or the newest before ``before``."""
    messages = Message.objects.filter(case=case).select_related(
        "sender", "attachment", "event__actor"
    )
    if before is not None:
        page = list(messages.filter(id__lt=before).order_by("-id")[: limit + 1])
        has_more = len(page) > limit
        return list(reversed(page[:limit])), has_more
    page = list(messages.filter(id__gt=after).order_by("id")[: limit + 1])
    return page[:limit], len(page) > limit


def _mark_read_locked(case: Case, user, up_to: int) -> int:
    state, _created = ReadState.objects.get_or_create(case=case, user=user)
    if up_to > state.last_read_id:
        ReadState.objects.filter(pk=state.pk, last_read_id__lt=up_to).update(
            last_read_id=up_to, updated_at=timezone.now()
        )
        state.last_read_id = up_to
    return state.last_read_id


def mark_read(case: Case, *, user, up_to) -> int:
    """Move ``user``'s read mark forward to ``up_to`` (never back, never past the last message)."""
    if isinstance(up_to, bool) or not isinstance(up_to, int) or up_to < 0:
        raise ValidationFailed(
            _("Give the id of the last message read."),
            fields={"up_to": [_("A whole number of 0 or more.")]},
        )
    if not selectors.can_read(case, user):
        raise PermissionDenied(_("You are not in the room of this case."))
    last = Message.objects.filter(case=case).order_by("-id").values_list("id", flat=True).first()
    up_to = min(up_to, last or 0)
    try:
        with transaction.atomic():
            return _mark_read_locked(case, user, up_to)
    except IntegrityError:  # two marks raced to create the row: the other one won
        return _mark_read_locked(case, user, up_to)
