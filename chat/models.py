"""A case's room: its messages, their attachments, and how far each person has read.

The database is the source of truth. A message is saved, and then it is
broadcast. Messages of one case are written while the case row is locked, so
within a case the ids grow in commit order. A client that asks for
``after=<id>`` therefore never misses a message that committed later with a
smaller id.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Case, CaseEvent, CaseOwnedQuerySet
from chat.choices import MessageKind


def attachment_path(instance: Attachment, filename: str) -> str:
    """``chat/<case id>/<yyyy>/<mm>/<random>.<ext>``: nothing of the sender's file name."""
    import secrets

    now = timezone.now()
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"chat/{instance.case_id}/{now:%Y/%m}/{secrets.token_hex(16)}.{ext}"


class Attachment(models.Model):
    """An uploaded photo, voice note, video or file, checked by its content."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("case")
    )
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=MessageKind.choices)
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    objects = CaseOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.content_type} · {self.size} B"


class Message(models.Model):
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="messages", verbose_name=_("case")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=MessageKind.choices)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sender"),
        help_text=_("Empty for system messages."),
    )
    text = models.TextField(_("text"), blank=True)
    attachment = models.OneToOneField(
        Attachment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="message",
        verbose_name=_("attachment"),
    )
    event = models.OneToOneField(
        CaseEvent,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="message",
        verbose_name=_("case event"),
        help_text=_("For system messages: the step of the case it reports."),
    )
    client_id = models.CharField(
        _("client id"),
        max_length=64,
        blank=True,
        help_text=_("The sending phone's own id for the message: a resend is not a duplicate."),
    )
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)

    objects = CaseOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "sender", "client_id"],
                condition=~Q(client_id=""),
                name="unique_client_message",
            ),
        ]
        indexes = [models.Index(fields=["case", "id"], name="message_case_id")]

    def __str__(self) -> str:
        return f"{self.case.number} #{self.pk} {self.get_kind_display()}"


class ReadStateQuerySet(CaseOwnedQuerySet):
    def visible_to(self, user) -> models.QuerySet:
        """A person's own read marks, of the cases they may read: how far others read is theirs."""
        rows = super().visible_to(user)
        return rows if getattr(user, "is_superuser", False) else rows.filter(user_id=user.pk)


class ReadState(models.Model):
    """How far one person has read one case's room (the last message id they saw)."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="read_states", verbose_name=_("case")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="read_states",
        verbose_name=_("person"),
    )
    last_read_id = models.PositiveBigIntegerField(_("last message read"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ReadStateQuerySet.as_manager()

    class Meta:
        verbose_name = _("read state")
        verbose_name_plural = _("read states")
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="one_read_state")]

    def __str__(self) -> str:
        return f"{self.user} · {self.case_id} · {self.last_read_id}"
