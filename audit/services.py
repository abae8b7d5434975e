"""Writing the audit log, and checking that nobody rewrote it.

``record`` runs in the caller's transaction: if the audit write fails, the
action it records is rolled back with it. Concurrent writers queue on the
chain head's row lock, so every record names the true previous digest.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import AuditRecord, ChainHead


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
    return hmac.new(_key(), _content(record), hashlib.sha256).hexdigest()


def record(
    action: str,
    *,
    actor=None,
    ip: str | None = None,
    obj=None,
    success: bool = True,
    details: dict | None = None,
) -> AuditRecord:
    """Append one record to the log (in the current transaction)."""
    with transaction.atomic():
        head, _created = ChainHead.objects.select_for_update().get_or_create(pk=1)
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
            previous_digest=head.digest,
        )
        entry.digest = digest_of(entry)
        entry.save()
        ChainHead.objects.filter(pk=1).update(digest=entry.digest)
    return entry


def first_broken_link() -> tuple[int, str] | None:
    """``(record id, what is wrong)`` for the first record that does not verify, or None.

    Records are walked in id order from the first. Each one must carry the
    previous record's digest, and its own digest must match its content. The
    chain head must be the last digest, or the newest records were removed.
    """
    head_row = ChainHead.objects.filter(pk=1).first()
    previous, last_id = (head_row.anchor if head_row else "0" * 64), 0
    for entry in AuditRecord.objects.order_by("id").iterator(chunk_size=2000):
        if entry.previous_digest != previous:
            return entry.pk, "the record before it was changed or removed"
        if not hmac.compare_digest(entry.digest, digest_of(entry)):
            return entry.pk, "its content was changed"
        previous, last_id = entry.digest, entry.pk
    head = ChainHead.objects.filter(pk=1).values_list("digest", flat=True).first()
    if head is not None and head != previous:
        return last_id, "records after it were removed"
    return None


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


def audit_personal_data(request, obj, what: str):
    """An unmasked read of personal data (phone numbers): who saw what, where from."""
    return audit_request(request, "personal_data.view", obj=obj, what=what)


#: Records younger than this may not be purged (等保 retention).
RETENTION_DAYS = 180


def purge(*, before, actor=None) -> int:
    """Remove records older than ``before`` (at least ``RETENTION_DAYS`` old), auditably.

    The chain stays verifiable: the head keeps, as its anchor, the digest the
    oldest kept record follows; and the purge itself is the next record.
    """
    from datetime import timedelta

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
        head, _created = ChainHead.objects.select_for_update().get_or_create(pk=1)
        doomed = AuditRecord.objects.filter(created_at__lt=before)
        count = doomed.count()
        kept = AuditRecord.objects.filter(created_at__gte=before).order_by("id").first()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL jinshao.audit_purge = 'on'")
            cursor.execute("DELETE FROM audit_auditrecord WHERE created_at < %s", [before])
        anchor = kept.previous_digest if kept is not None else head.digest
        ChainHead.objects.filter(pk=1).update(anchor=anchor)
        record(
            "audit.purge",
            actor=actor,
            details={"before": before.isoformat(), "removed": count, "anchor": anchor},
        )
    return count
