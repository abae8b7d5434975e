"""Writing the audit log, and checking that nobody rewrote it.

``record`` runs in the caller's transaction: if the audit write fails, the
action it records is rolled back with it. Concurrent writers queue on the
chain head's row lock, so every record names the true previous digest and
takes the next sequence number.

What is signed (HMAC-SHA256 under ``JINSHAO_AUDIT_KEY``, which the database
never holds): each record, over its content and the previous digest; the head,
over (newest digest, newest sequence, newest id); the anchor, over (the digest
the oldest kept record follows, its sequence, the sequence of the purge that
removed the records before it). ``first_broken_link`` checks all three, so
removing records in the middle, at the newest end, at the oldest end (other
than by ``purge``) or all of them is caught. What it cannot catch: see
``docs/security.md`` ("Tamper-evident").
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import AuditRecord, ChainHead

#: The digest before the first record.
ZERO = "0" * 64

#: Records younger than this may not be purged (等保 retention).
RETENTION_DAYS = 180


class ChainBroken(Exception):
    """The chain head is missing or its signature does not match: nothing is appended.

    Appending would sign whatever an intruder left as the head; the action
    that wanted its audit record is refused instead (``manage.py audit_verify``
    says what happened).
    """


def _key() -> bytes:
    return settings.JINSHAO_AUDIT_KEY.encode()


def _content(record: AuditRecord) -> bytes:
    fields = {
        "created_at": record.created_at.isoformat(),
        "actor": record.actor_id,
        "actor_name": record.actor_name,
        "ip": record.ip,
        "action": record.action,
        "object_type": record.object_type,
        "object_id": record.object_id,
        "object_repr": record.object_repr,
        "success": record.success,
        "details": record.details,
        "previous": record.previous_digest,
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str).encode()


def digest_of(record: AuditRecord) -> str:
    """Hex HMAC-SHA256 of one record's content and the digest before it."""
    return hmac.new(_key(), _content(record), hashlib.sha256).hexdigest()


def _sign(*parts: object) -> str:
    message = json.dumps([str(part) for part in parts]).encode()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


def head_signature(digest: str, sequence: int, last_id: int) -> str:
    """Hex HMAC over the newest record's digest, sequence and id."""
    return _sign("head", digest, sequence, last_id)


def anchor_signature(anchor: str, first_sequence: int, purge_sequence: int) -> str:
    """Hex HMAC over the anchor digest, the oldest kept sequence and the purge record's."""
    return _sign("anchor", anchor, first_sequence, purge_sequence)


def _head_verifies(head: ChainHead) -> bool:
    return hmac.compare_digest(
        head.signature, head_signature(head.digest, head.sequence, head.last_id)
    )


def _anchor_verifies(head: ChainHead) -> bool:
    return hmac.compare_digest(
        head.anchor_signature,
        anchor_signature(head.anchor, head.first_sequence, head.purge_sequence),
    )


def ensure_head(*, using: str = "default") -> None:
    """Make the signed head of an empty log (after ``migrate`` or ``flush``).

    Never beside existing records, and never over a head: a head missing
    beside records stays missing, for ``audit_verify`` to report.
    """
    if ChainHead.objects.using(using).filter(pk=1).exists():
        return
    if AuditRecord.objects.using(using).exists():
        return
    ChainHead.objects.using(using).create(
        pk=1,
        signature=head_signature(ZERO, 0, 0),
        anchor_signature=anchor_signature(ZERO, 1, 0),
    )


def _locked_head() -> ChainHead:
    """The head, locked for this transaction; ``ChainBroken`` if missing or not ours."""
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        raise ChainBroken("the audit chain head is missing (see manage.py audit_verify)")
    if not (_head_verifies(head) and _anchor_verifies(head)):
        raise ChainBroken("the audit chain head does not verify (see manage.py audit_verify)")
    return head


def record(
    action: str,
    *,
    actor=None,
    ip: str | None = None,
    obj=None,
    success: bool = True,
    details: dict | None = None,
) -> AuditRecord:
    """Append one record to the log (in the current transaction).

    Raises ``ChainBroken`` (and so rolls the caller's action back) when the
    chain head is missing or was changed outside the application.
    """
    with transaction.atomic():
        head = _locked_head()
        entry = AuditRecord(
            created_at=timezone.now(),
            actor=actor if getattr(actor, "pk", None) else None,
            actor_name=(actor.get_username() if getattr(actor, "pk", None) else "")[:150],
            ip=ip or None,
            action=action,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            object_repr=str(obj)[:200] if obj is not None else "",
            success=success,
            # Plain JSON now: what is hashed is exactly what the database keeps.
            details=json.loads(json.dumps(details or {}, default=str, ensure_ascii=False)),
            sequence=head.sequence + 1,
            previous_digest=head.digest,
        )
        entry.digest = digest_of(entry)
        entry.save()
        ChainHead.objects.filter(pk=1).update(
            digest=entry.digest,
            sequence=entry.sequence,
            last_id=entry.pk,
            signature=head_signature(entry.digest, entry.sequence, entry.pk),
        )
    return entry


def first_broken_link() -> tuple[int, str] | None:
    """``(record id, what is wrong)`` for the first fault found, or None if the log verifies.

    The id is 0 when no kept record is at fault (the head or the anchor
    itself, or an empty log). Checks, in order: the head's and the anchor's
    signatures; every record from the anchor on, in sequence order (it follows
    the one before by digest, its content matches its digest, its sequence is
    the next one); the newest record is the one the head names; the purge the
    anchor names exists, matches it and removed only records older than
    ``RETENTION_DAYS``.
    """
    head = ChainHead.objects.filter(pk=1).first()
    if head is None:
        return 0, "the chain head is missing: the log was removed or never set up"
    if not _head_verifies(head):
        return head.last_id, "the chain head was changed: its signature does not match"
    if not _anchor_verifies(head):
        return 0, "the anchor was changed: its signature does not match"
    previous, expected = head.anchor, head.first_sequence
    last: AuditRecord | None = None
    for entry in AuditRecord.objects.order_by("sequence").iterator(chunk_size=2000):
        if last is None and (entry.sequence != expected or entry.previous_digest != previous):
            return entry.pk, "records before it were removed: it does not follow the anchor"
        if entry.previous_digest != previous:
            return entry.pk, "the record before it was changed or removed"
        if not hmac.compare_digest(entry.digest, digest_of(entry)):
            return entry.pk, "its content was changed"
        if entry.sequence != expected:
            return entry.pk, f"its sequence number is {entry.sequence} where {expected} was due"
        previous, expected, last = entry.digest, expected + 1, entry
    if last is None:
        if head.sequence >= head.first_sequence:
            missing = head.sequence - head.first_sequence + 1
            return 0, f"all {missing} records were removed"
    elif (last.sequence, last.digest, last.pk) != (head.sequence, head.digest, head.last_id):
        return last.pk, "records after it were removed"
    return _purge_fault(head)


def _purge_fault(head: ChainHead) -> tuple[int, str] | None:
    """What is wrong with the purge the anchor names, or None."""
    if not head.purge_sequence:
        if head.anchor != ZERO or head.first_sequence != 1:
            return 0, "the anchor names no purge"
        return None
    purge = AuditRecord.objects.filter(sequence=head.purge_sequence).first()
    if purge is None or purge.action != "audit.purge":
        return 0, "the purge the anchor names is missing"
    details = purge.details
    first_kept = details.get("first_kept", head.first_sequence)  # not recorded before issue 12
    if details.get("anchor") != head.anchor or first_kept != head.first_sequence:
        return purge.pk, "the purge does not match the anchor"
    before = datetime.fromisoformat(details["before"])
    if before > purge.created_at - timedelta(days=RETENTION_DAYS):
        return purge.pk, f"the purge removed records younger than {RETENTION_DAYS} days"
    return None


def head_summary() -> str:
    """``sequence N, head <digest>``: worth keeping outside the database (``audit_verify``)."""
    head = ChainHead.objects.filter(pk=1).first()
    return f"sequence {head.sequence}, head {head.digest}" if head else "no head"


def audit_request(request, action: str, *, obj=None, success: bool = True, **details):
    """``record`` for the person and address behind ``request``."""
    from audit.request import client_ip

    user = getattr(request, "user", None)
    return record(
        action,
        actor=user if getattr(user, "is_authenticated", False) else None,
        ip=client_ip(request),
        obj=obj,
        success=success,
        details=details,
    )


def audit_personal_data(request, obj, what: str, **extra):
    """An unmasked read of personal data (phone numbers): who saw what, where from.

    ``what`` is a code of ``audit.labels.PERSONAL_DATA`` (shown by its label);
    ``extra`` details such as ``rows`` or ``object_id`` go beside it.
    """
    return audit_request(request, "personal_data.view", obj=obj, what=what, **extra)


def purge(*, before, actor=None) -> int:
    """Remove the records older than ``before`` (at least ``RETENTION_DAYS`` ago), auditably.

    ``before``: an aware datetime. Returns how many records were removed.
    Raises ``ValidationFailed`` when ``before`` is too recent, ``ChainBroken``
    when the head does not verify. Removes a prefix of the chain (every record
    before the oldest one from ``before`` on, in sequence order), then records
    the purge itself (``audit.purge``: before, removed, anchor, first_kept) and
    signs the new anchor, naming that record.
    """
    from django.db import connection

    from core.errors import ValidationFailed

    limit = timezone.now() - timedelta(days=RETENTION_DAYS)
    if before > limit:
        from django.utils.translation import gettext as _

        raise ValidationFailed(
            _("Audit records younger than %(days)s days cannot be purged.")
            % {"days": RETENTION_DAYS},
            fields={"before": [_("On or before %(day)s.") % {"day": f"{limit:%Y-%m-%d}"}]},
        )
    with transaction.atomic():
        head = _locked_head()
        kept = AuditRecord.objects.filter(created_at__gte=before).order_by("sequence").first()
        if kept is not None:
            first_kept, anchor = kept.sequence, kept.previous_digest
        else:  # everything goes: the purge record itself is the oldest kept
            first_kept, anchor = head.sequence + 1, head.digest
        count = AuditRecord.objects.filter(sequence__lt=first_kept).count()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL jinshao.audit_purge = 'on'")
            cursor.execute("DELETE FROM audit_auditrecord WHERE sequence < %s", [first_kept])
        entry = record(
            "audit.purge",
            actor=actor,
            details={
                "before": before.isoformat(),
                "removed": count,
                "anchor": anchor,
                "first_kept": first_kept,
            },
        )
        ChainHead.objects.filter(pk=1).update(
            anchor=anchor,
            first_sequence=first_kept,
            purge_sequence=entry.sequence,
            anchor_signature=anchor_signature(anchor, first_kept, entry.sequence),
        )
    return count
