"""Writing the audit log, and checking that nobody rewrote it.

The write path is a transparency log's (Certificate Transparency, Trillian):
``record`` runs in the caller's transaction and only INSERTs one *pending*
record, sealed by its own ``entry_mac``; it reads and locks no shared row, so
writers never queue behind one another. If the audit write fails, the action
it records is rolled back with it. After the commit, the sequencer
(``sequence_pending``: Celery beat every ``JINSHAO_AUDIT_SEQUENCE_SECONDS``,
kicked on commit, or ``manage.py audit_sequence``) takes the pending records
in id order, in batches, under the chain head's row lock (taken only by the
sequencer and ``purge``, with SKIP LOCKED: a second sequencer finds it busy
and leaves), gives each the next sequence number and its chained digest, and
signs the new head. A record waits at most about one sequencer interval;
``JINSHAO_AUDIT_PENDING_MAX_SECONDS`` bounds it (``/health/ready`` turns red
past it, ``jinshao_audit_oldest_pending_age_seconds`` shows it).

What is signed (HMAC-SHA256 under ``JINSHAO_AUDIT_KEY``, which the database
never holds): each record by its writer, over its content and a random token
(``entry_mac``); each chained record by the sequencer, over its content and the
previous digest (``digest``); the head, over (newest digest, newest sequence,
newest id); the anchor, over (the digest the oldest kept record follows, its
sequence, the sequence of the purge that removed the records before it).
``first_broken_link`` checks all of them, so changing any record (chained or
pending), removing chained records in the middle, at the newest end, at the
oldest end (other than by ``purge``) or all of them is caught. What it cannot
catch: see ``docs/security.md`` ("Tamper-evident").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditRecord, ChainHead

#: The digest before the first record.
ZERO = "0" * 64

#: Records younger than this may not be purged (等保 retention).
RETENTION_DAYS = 180

logger = logging.getLogger("jinshao.audit")


class ChainBroken(Exception):
    """The chain head is missing or its signature does not match: nothing is chained.

    Chaining would sign whatever an intruder left as the head; the sequencer
    (and ``purge``) refuse instead, the records stay pending (sealed), and
    ``/health/ready`` turns red as they age (``manage.py audit_verify`` says
    what happened).
    """


def _key() -> bytes:
    return settings.JINSHAO_AUDIT_KEY.encode()


def _recorded_fields(record: AuditRecord) -> dict:
    """What a record says: the part both its seal and its chained digest sign."""
    return {
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
    }


def _encode(fields: dict) -> bytes:
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str).encode()


def _content(record: AuditRecord) -> bytes:
    return _encode({**_recorded_fields(record), "previous": record.previous_digest})


def _entry_content(record: AuditRecord) -> bytes:
    return b"entry\0" + _encode({**_recorded_fields(record), "token": record.token})


def entry_mac_of(record: AuditRecord) -> str:
    """Hex HMAC-SHA256 of one record's content and token: its writer's seal.

    Set before the record is inserted and never changed; it holds while the
    record waits for the sequencer and after (``first_broken_link`` checks both).
    """
    return hmac.new(_key(), _entry_content(record), hashlib.sha256).hexdigest()


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


def _verified(head: ChainHead | None) -> ChainHead:
    """``head`` if it is there and both its signatures verify; ``ChainBroken`` otherwise."""
    if head is None:
        raise ChainBroken("the audit chain head is missing (see manage.py audit_verify)")
    if not (_head_verifies(head) and _anchor_verifies(head)):
        raise ChainBroken("the audit chain head does not verify (see manage.py audit_verify)")
    return head


def _sequencer_head(*, wait: bool) -> ChainHead | None:
    """The head, locked for this transaction for the one sequencer; None if another has it.

    PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` on the head row (``NOWAIT``
    is not needed: with ``wait`` it queues instead). SQLite has no row locks: a
    no-op UPDATE of the head takes the database's write lock first, so a
    second process waits for it rather than reading the same head.
    Raises ``ChainBroken`` when the head is missing or does not verify.
    """
    heads = ChainHead.objects.filter(pk=1)
    if connection.vendor == "postgresql":
        head = heads.select_for_update(skip_locked=not wait).first()
        if head is None and not wait and heads.exists():
            return None  # another sequencer holds it
        return _verified(head)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_chainhead SET id = id WHERE id = 1")
    return _verified(heads.first())


#: One sequencer per process at a time (the database lock orders processes).
_sequencing = threading.Lock()


def sequence_pending(*, wait: bool = False, batch_size: int | None = None) -> int:
    """Chain every pending record (the sequencer); answers how many it chained.

    Batches of ``batch_size`` (default ``JINSHAO_AUDIT_SEQUENCE_BATCH``), each
    in its own transaction: lock the head (another sequencer holding it: return
    at once, or queue with ``wait``), read the oldest pending records by id,
    give each the next sequence number and its digest over its content and the
    previous digest, re-sign the head. Safe to run in any number of processes
    at once: the head's lock admits one, so a sequence number is never given
    twice, nor a record chained twice. A pending record whose seal no longer
    matches is still chained in its place (the seal stays wrong, and
    ``first_broken_link`` names it) and logged. Raises ``ChainBroken`` when the
    head is missing or does not verify: nothing is chained then.
    """
    size = batch_size or settings.JINSHAO_AUDIT_SEQUENCE_BATCH
    if not _sequencing.acquire(blocking=wait):
        return 0
    try:
        total = 0
        while True:
            with transaction.atomic():
                head = _sequencer_head(wait=wait)
                if head is None:
                    return total
                chained = _chain_batch(head, size)
            total += chained
            if chained < size:
                return total
    finally:
        _sequencing.release()


def _chain_batch(head: ChainHead, size: int) -> int:
    """Chain up to ``size`` pending records after ``head`` (locked); moves and re-signs it."""
    pending = list(AuditRecord.objects.filter(sequence__isnull=True).order_by("id")[:size])
    if not pending:
        return 0
    rows = []
    for entry in pending:
        if not hmac.compare_digest(entry.entry_mac, entry_mac_of(entry)):
            logger.error("audit record %s was changed while pending: chained as found", entry.pk)
        entry.sequence, entry.previous_digest = head.sequence + 1, head.digest
        entry.digest = digest_of(entry)
        rows.append((entry.sequence, entry.previous_digest, entry.digest, entry.pk))
        head.sequence, head.digest, head.last_id = entry.sequence, entry.digest, entry.pk
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE audit_auditrecord SET sequence = %s, previous_digest = %s, digest = %s"
            " WHERE id = %s AND sequence IS NULL",
            rows,
        )
    head.signature = head_signature(head.digest, head.sequence, head.last_id)
    ChainHead.objects.filter(pk=1).update(
        digest=head.digest, sequence=head.sequence, last_id=head.last_id, signature=head.signature
    )
    return len(pending)


#: ``time.monotonic()`` of this process's last sequencer task sent on commit.
_kicked_at = 0.0
_kick_lock = threading.Lock()


def _kick() -> None:
    """After a commit that wrote records: start the sequencer (``JINSHAO_AUDIT_SEQUENCE_ON_COMMIT``).

    ``inline``: here and now (embedded default, tests), leaving at once if
    another sequencer is busy; ``task``: one Celery task, at most one per
    second from this process; ``off``: leave it to beat. Never raises: the
    periodic run catches up.
    """
    global _kicked_at
    mode = settings.JINSHAO_AUDIT_SEQUENCE_ON_COMMIT
    try:
        if mode == "inline":
            sequence_pending()
        elif mode == "task":
            with _kick_lock:
                now = time.monotonic()
                if now - _kicked_at < 1.0:
                    return
                _kicked_at = now
            from audit.tasks import sequence_audit

            sequence_audit.apply_async(retry=False)  # a broker outage must not hold the request
    except Exception:  # noqa: BLE001 (the request succeeded; beat will chain it)
        logger.warning("could not start the audit sequencer on commit", exc_info=True)


def _kick_on_commit() -> None:
    """Run ``_kick`` once after this transaction commits (at once outside one)."""
    if settings.JINSHAO_AUDIT_SEQUENCE_ON_COMMIT == "off":
        return
    if connection.in_atomic_block and any(
        callback is _kick for _, callback, *_ in connection.run_on_commit
    ):
        return
    transaction.on_commit(_kick)


def _entry(
    action: str,
    *,
    actor=None,
    ip: str | None = None,
    obj=None,
    success: bool = True,
    details: dict | None = None,
) -> AuditRecord:
    """One pending record, sealed by its own ``entry_mac``, not yet saved."""
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
        # Plain JSON now: what is sealed is exactly what the database keeps.
        details=json.loads(json.dumps(details or {}, default=str, ensure_ascii=False)),
        token=secrets.token_hex(16),
    )
    entry.entry_mac = entry_mac_of(entry)
    return entry


def record(
    action: str,
    *,
    actor=None,
    ip: str | None = None,
    obj=None,
    success: bool = True,
    details: dict | None = None,
) -> AuditRecord:
    """Append one record to the log, pending (in the current transaction): one INSERT.

    Takes no lock and reads nothing shared: the record is sealed by its own
    ``entry_mac`` and chained after the commit by the sequencer
    (``sequence_pending``), so the returned record has no ``sequence`` yet.
    Database errors propagate (and so roll the caller's action back).
    """
    entry = _entry(action, actor=actor, ip=ip, obj=obj, success=success, details=details)
    entry.save(force_insert=True)
    _kick_on_commit()
    return entry


def record_many(entries: list[dict]) -> list[AuditRecord]:
    """``record`` for several records at once (``entries``: its keyword arguments, with
    ``action``): one INSERT, in the given order, each pending and sealed alike, chained by
    the sequencer after the commit in id order like any other. Errors propagate."""
    records = [_entry(**entry) for entry in entries]
    if records:
        AuditRecord.objects.bulk_create(records)
        _kick_on_commit()
    return records


def pending_status() -> tuple[int, float]:
    """``(pending records, age of the oldest in seconds)``: one indexed query; (0, 0.0) if none.

    The age counts from the record's ``created_at`` (its writer's clock).
    """
    from django.db.models import Count, Min

    row = AuditRecord.objects.filter(sequence__isnull=True).aggregate(
        pending=Count("id"), oldest=Min("created_at")
    )
    oldest = row["oldest"]
    age = max(0.0, (timezone.now() - oldest).total_seconds()) if oldest else 0.0
    return row["pending"], age


def first_broken_link() -> tuple[int, str] | None:
    """``(record id, what is wrong)`` for the first fault found, or None if the log verifies.

    The id is 0 when no kept record is at fault (the head or the anchor
    itself, or an empty log). Checks, in order: the head's and the anchor's
    signatures; every chained record from the anchor on, in sequence order (it
    follows the one before by digest, its content matches its digest and its
    writer's seal, its sequence is the next one); the newest chained record is
    the one the head names; the purge the anchor names exists, matches it and
    removed only records older than ``RETENTION_DAYS``; every pending record's
    content matches its seal. How long records have waited is not a fault
    here: ``pending_status`` (readiness, ``audit_verify``) reports it.
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
    chained = AuditRecord.objects.filter(sequence__isnull=False).order_by("sequence")
    for entry in chained.iterator(chunk_size=2000):
        if last is None and (entry.sequence != expected or entry.previous_digest != previous):
            return entry.pk, "records before it were removed: it does not follow the anchor"
        if entry.previous_digest != previous:
            return entry.pk, "the record before it was changed or removed"
        if not hmac.compare_digest(entry.digest or "", digest_of(entry)):
            return entry.pk, "its content was changed"
        if not hmac.compare_digest(entry.entry_mac, entry_mac_of(entry)):
            return entry.pk, "its content was changed before it was chained"
        if entry.sequence != expected:
            return entry.pk, f"its sequence number is {entry.sequence} where {expected} was due"
        previous, expected, last = entry.digest or "", expected + 1, entry
    if last is None:
        if head.sequence >= head.first_sequence:
            missing = head.sequence - head.first_sequence + 1
            return 0, f"all {missing} records were removed"
    elif (last.sequence, last.digest, last.pk) != (head.sequence, head.digest, head.last_id):
        return last.pk, "records after it were removed"
    return _purge_fault(head) or _pending_fault()


def _pending_fault() -> tuple[int, str] | None:
    """The first pending record whose content no longer matches its seal, or None."""
    pending = AuditRecord.objects.filter(sequence__isnull=True).order_by("id")
    for entry in pending.iterator(chunk_size=2000):
        if not hmac.compare_digest(entry.entry_mac, entry_mac_of(entry)):
            return entry.pk, "its content was changed while it waited to be chained"
        if entry.digest is not None or entry.previous_digest:
            return entry.pk, "it has a digest but no sequence number"
    return None


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


def audit_personal_data_many(request, reads: list[tuple[object, str]]):
    """``audit_personal_data`` for several reads one answer shows (``(obj, what)`` each):
    every record written, in the given order, in one INSERT."""
    from audit.request import client_ip

    user = getattr(request, "user", None)
    actor = user if getattr(user, "is_authenticated", False) else None
    ip = client_ip(request)
    return record_many(
        [
            {
                "action": "personal_data.view",
                "actor": actor,
                "ip": ip,
                "obj": obj,
                "details": {"what": what},
            }
            for obj, what in reads
        ]
    )


def purge(*, before, actor=None) -> int:
    """Remove the records older than ``before`` (at least ``RETENTION_DAYS`` ago), auditably.

    ``before``: an aware datetime. Returns how many records were removed.
    Raises ``ValidationFailed`` when ``before`` is too recent, ``ChainBroken``
    when the head does not verify. Chains every pending record first (under the
    head's lock, as the sequencer), then removes a prefix of the chain (every record
    before the oldest one from ``before`` on, in sequence order), then records
    the purge itself (``audit.purge``: before, removed, anchor, first_kept) and
    signs the new anchor, naming that record.
    """
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
        head = _sequencer_head(wait=True)
        assert head is not None  # waited for the lock
        while _chain_batch(head, settings.JINSHAO_AUDIT_SEQUENCE_BATCH):
            pass  # the purge sees the whole chain, pending records included
        kept = (
            AuditRecord.objects.filter(created_at__gte=before, sequence__isnull=False)
            .order_by("sequence")
            .first()
        )
        if kept is not None:
            first_kept, anchor = int(kept.sequence or 0), kept.previous_digest  # chained
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
        while _chain_batch(head, settings.JINSHAO_AUDIT_SEQUENCE_BATCH):
            pass  # the purge record (and any written meanwhile), chained now
        entry.refresh_from_db(fields=["sequence"])
        purge_sequence = int(entry.sequence or 0)  # chained just above
        ChainHead.objects.filter(pk=1).update(
            anchor=anchor,
            first_sequence=first_kept,
            purge_sequence=purge_sequence,
            anchor_signature=anchor_signature(anchor, first_kept, purge_sequence),
        )
    return count
