"""The audit log: append-only, each record chained to the one before by a keyed hash.

A request only inserts its record, *pending* (no ``sequence``, no
``digest``), sealed by its own ``entry_mac``: HMAC-SHA256 (key
``JINSHAO_AUDIT_KEY``) over its content and a random ``token``. It reads or
locks no shared row. The sequencer (``audit.services.sequence_pending``, run
by Celery beat, on commit, or ``manage.py audit_sequence``) then takes the
pending records in id order, gives each the next ``sequence`` number (1, 2,
3, ... with no gap) and its ``digest``: HMAC-SHA256 over its content and the
previous record's digest. Changing or deleting any chained row with raw SQL
breaks the chain at that row, changing a pending one breaks its
``entry_mac``, and ``manage.py audit_verify`` names either. Both ends are signed too (``ChainHead``): the head names the newest
record (digest, sequence, id), the anchor the oldest kept one and the purge
that removed the records before it, so removing records at either end, or all
of them, is caught as well.

The ORM refuses updates and deletes. On PostgreSQL a trigger refuses them too
(migrations ``0002``, ``0007``: the one update it lets through gives a pending
record its place in the chain and changes nothing else), so only a table owner acting on purpose, outside the
application, can alter the log. The chain still shows that they did.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.signals import post_migrate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnly(Exception):
    """The audit log is append-only."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("audit records cannot be changed")

    def delete(self):
        raise AppendOnly("audit records cannot be deleted (see audit_purge)")


class AuditRecord(models.Model):
    """One security event or business action, as it happened."""

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_name = models.CharField(_("actor (as recorded)"), max_length=150, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    success = models.BooleanField(_("succeeded"), default=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    #: Random hex, sealed by ``entry_mac``: two records never have the same seal.
    token = models.CharField(_("token"), max_length=32, default="", editable=False)
    #: HMAC over the content and ``token``, set by the writer (``audit.services.entry_mac_of``).
    entry_mac = models.CharField(_("entry seal"), max_length=64, unique=True, editable=False)
    #: 1 for the first record ever chained, then one more for each; never reused.
    #: None while the record waits for the sequencer (待入链).
    sequence = models.PositiveBigIntegerField(
        _("sequence"), unique=True, null=True, blank=True, editable=False
    )
    previous_digest = models.CharField(
        _("previous digest"), max_length=64, blank=True, default="", editable=False
    )
    digest = models.CharField(
        _("digest"), max_length=64, unique=True, null=True, blank=True, editable=False
    )

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            # The sequencer's queue and readiness's oldest-pending age: only pending rows.
            models.Index(
                fields=["id"], name="audit_pending", condition=models.Q(sequence__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        from audit.labels import action_label  # the action as the reader says it

        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_name} {action_label(self.action)}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnly("audit records cannot be changed")
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("audit records cannot be deleted (see audit_purge)")

    @property
    def is_pending(self) -> bool:
        """True while the record waits for the sequencer (no place in the chain yet)."""
        return self.sequence is None


class ChainHead(models.Model):
    """Both ends of the chain, each signed; its row lock admits one sequencer at a time.

    Only the sequencer and ``purge`` lock it; a request never reads it.

    One row (pk 1), made by migration ``0005`` (and again after a flush of an
    empty database). ``signature`` is HMAC-SHA256 under ``JINSHAO_AUDIT_KEY``
    over (``digest``, ``sequence``, ``last_id``); ``anchor_signature`` over
    (``anchor``, ``first_sequence``, ``purge_sequence``). See
    ``audit.services.first_broken_link``.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    #: The newest record's digest (zeros before any).
    digest = models.CharField(max_length=64, default="0" * 64)
    #: The newest record's sequence: how many records were ever written.
    sequence = models.PositiveBigIntegerField(default=0)
    #: The newest record's id.
    last_id = models.PositiveBigIntegerField(default=0)
    signature = models.CharField(max_length=64, blank=True, default="")
    #: The digest the oldest kept record follows (after a purge; zeros before any).
    anchor = models.CharField(max_length=64, default="0" * 64)
    #: The oldest kept record's sequence (1 until a purge).
    first_sequence = models.PositiveBigIntegerField(default=1)
    #: The sequence of the ``audit.purge`` record that set the anchor (0: never purged).
    purge_sequence = models.PositiveBigIntegerField(default=0)
    anchor_signature = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain heads")

    def __str__(self) -> str:
        return self.digest


def _head_after_migrate(sender, using: str = "default", **kwargs) -> None:
    """The signed head of an empty log, after ``migrate`` and after ``flush`` (tests).

    Migration ``0005`` makes it on a new database; ``flush`` removes every row,
    the head included, and then sends ``post_migrate``.
    """
    if getattr(sender, "label", None) != "audit":
        return
    from django.db import DatabaseError, transaction

    from audit.services import ensure_head

    try:
        with transaction.atomic(using=using):
            ensure_head(using=using)
    except DatabaseError:  # migrated back before 0005: no head columns yet
        pass


post_migrate.connect(_head_after_migrate, dispatch_uid="audit_chain_head")
