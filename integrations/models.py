"""External systems that send us cases and hear back how they went.

- ``ExternalSystem``: the city's unified platform (一网统管), the 12345 hotline,
  or any Open311 client; a shared secret signs requests both ways.
- ``CategoryMapping`` / ``AreaMapping``: their codes to our templates and
  communities (set up in the admin or from a spreadsheet).
- ``ExternalCase``: the link from their id to our case; unique per system, so a
  second delivery of the same id finds the same case.
- ``Delivery``: every inbound request with its outcome; ``IntakeReview``: what
  could not be mapped, waiting for a commander.
- ``OutboundMessage`` / ``OutboundAttempt``: the outbox of status changes sent
  back, written in the same transaction as the step it reports.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import RegexValidator, URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cases.choices import CaseSource
from cases.models import CaseOwnedQuerySet
from core.crypto import EncryptedCharField, secret_digest
from core.models import TimeStampedModel
from integrations.choices import DeliveryOutcome, OutboundState, ReviewState
from integrations.labels import event_label

system_code_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]*$", _("Use lower-case letters, digits, '-' and '_'.")
)

#: Sources an external system may file cases as.
EXTERNAL_SOURCES = [
    (value, label) for value, label in CaseSource.choices if value != CaseSource.VILLAGE
]


def new_secret() -> str:
    return secrets.token_urlsafe(32)


#: The longest ``media_url`` kept (GeoReport sets no bound; browsers handle 2,000).
MEDIA_URL_MAX = 1000


def open311_media_path(instance: ExternalCase, filename: str) -> str:
    """``open311/<yyyy>/<mm>/<random>.jpg``: nothing of the sender's file name."""
    now = timezone.now()
    return f"open311/{now:%Y/%m}/{secrets.token_hex(16)}.jpg"


class ExternalSystem(TimeStampedModel):
    """A system that files cases here (signed intake or Open311) and is told of their progress."""

    code = models.CharField(
        _("code"), max_length=20, unique=True, validators=[system_code_validator]
    )
    name = models.CharField(_("name"), max_length=100)
    source = models.CharField(
        _("case source"),
        max_length=20,
        choices=EXTERNAL_SOURCES,
        default=CaseSource.GRID_PLATFORM,
        help_text=_("How cases from this system are counted (grid platform, hotline, Open311)."),
    )
    secret = EncryptedCharField(
        _("shared secret"),
        max_length=128,
        default=new_secret,
        help_text=_(
            "Signs requests both ways (HMAC-SHA256); an Open311 client sends it as api_key."
        ),
    )
    secret_digest = models.CharField(max_length=64, editable=False, db_index=True, default="")
    callback_url = models.URLField(
        _("callback URL"),
        validators=[URLValidator(schemes=["http", "https"])],
        blank=True,
        help_text=_("Where status changes of its cases are sent. Empty: nothing is sent."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("external system")
        verbose_name_plural = _("external systems")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.secret_digest = secret_digest(self.secret or "")
        if kwargs.get("update_fields") is not None and "secret" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "secret_digest"}
        super().save(*args, **kwargs)


class CategoryMapping(models.Model):
    """Their category code → our case template (and so category and limits)."""

    system = models.ForeignKey(
        ExternalSystem,
        on_delete=models.CASCADE,
        related_name="category_mappings",
        verbose_name=_("external system"),
    )
    external_code = models.CharField(_("their code"), max_length=64)
    external_name = models.CharField(_("their name"), max_length=100, blank=True)
    template = models.ForeignKey(
        "templates.CaseTemplate",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("template"),
    )

    class Meta:
        verbose_name = _("category mapping")
        verbose_name_plural = _("category mappings")
        ordering = ["system", "external_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "external_code"], name="unique_category_mapping"
            )
        ]

    def __str__(self) -> str:
        return f"{self.external_code} → {self.template}"


class AreaMapping(models.Model):
    """Their area code → our village or community."""

    system = models.ForeignKey(
        ExternalSystem,
        on_delete=models.CASCADE,
        related_name="area_mappings",
        verbose_name=_("external system"),
    )
    external_code = models.CharField(_("their code"), max_length=64)
    external_name = models.CharField(_("their name"), max_length=100, blank=True)
    community = models.ForeignKey(
        "grids.Area",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": 4},
        verbose_name=_("community"),
    )

    class Meta:
        verbose_name = _("area mapping")
        verbose_name_plural = _("area mappings")
        ordering = ["system", "external_code"]
        constraints = [
            models.UniqueConstraint(fields=["system", "external_code"], name="unique_area_mapping")
        ]

    def __str__(self) -> str:
        return f"{self.external_code} → {self.community}"


class ExternalCase(models.Model):
    """Their id for one of our cases: one case per (system, id), whatever the deliveries."""

    system = models.ForeignKey(
        ExternalSystem,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("external system"),
    )
    external_id = models.CharField(_("their id"), max_length=40)
    case = models.OneToOneField(
        "cases.Case",
        on_delete=models.CASCADE,
        related_name="external",
        verbose_name=_("case"),
    )
    created_at = models.DateTimeField(_("taken in at"), default=timezone.now)
    #: The photo's address the sender gave (GeoReport ``media_url``): linked, never fetched.
    media_url = models.URLField(_("photo link"), max_length=MEDIA_URL_MAX, blank=True)
    #: The photo the sender uploaded (GeoReport ``media``), checked and re-encoded without
    #: its metadata; posted to the case's room once the room opens (``integrations.services``).
    media_file = models.FileField(
        _("photo sent"), upload_to=open311_media_path, max_length=200, blank=True
    )
    media_posted = models.BooleanField(_("photo posted to the room"), default=False)

    objects = CaseOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("external case")
        verbose_name_plural = _("external cases")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["system", "external_id"], name="unique_external_id")
        ]

    def __str__(self) -> str:
        return f"{self.system.code}:{self.external_id}"


class IntakeReview(models.Model):
    """A delivery that could not become a case by itself, waiting for a commander."""

    system = models.ForeignKey(
        ExternalSystem,
        on_delete=models.PROTECT,
        related_name="reviews",
        verbose_name=_("external system"),
    )
    external_id = models.CharField(_("their id"), max_length=40)
    payload = models.JSONField(_("what they sent"))
    problems = models.JSONField(_("problems"), default=list)
    community = models.ForeignKey(
        "grids.Area",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("community"),
        help_text=_("Known when their area code is mapped: its commanders see the entry."),
    )
    state = models.CharField(
        _("state"), max_length=16, choices=ReviewState.choices, default=ReviewState.PENDING
    )
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("case"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        verbose_name = _("case waiting for review")
        verbose_name_plural = _("intake review queue")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["system", "external_id"], name="unique_intake_review")
        ]
        indexes = [models.Index(fields=["state", "created_at"], name="review_state_created")]

    def __str__(self) -> str:
        return f"{self.system.code}:{self.external_id}"

    @property
    def title(self) -> str:
        return str(((self.payload or {}).get("case") or {}).get("title", ""))[:200]


class Delivery(models.Model):
    """One inbound request and what became of it (kept for the administrators)."""

    system = models.ForeignKey(
        ExternalSystem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("external system"),
    )
    channel = models.CharField(_("channel"), max_length=16, default="intake")
    external_id = models.CharField(_("their id"), max_length=40, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=DeliveryOutcome.choices)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"))
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    message = models.TextField(pgettext_lazy("the answer's text", "message"), blank=True)
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("case"),
    )
    review = models.ForeignKey(
        IntakeReview,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("review"),
    )
    remote_addr = models.GenericIPAddressField(_("address"), null=True, blank=True)
    body = models.TextField(_("body"), blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    times = models.PositiveIntegerField(
        _("times"),
        default=1,
        help_text=_(
            "How many requests this row stands for: throttled refusals from one address "
            "are counted in one row per window, not kept one by one."
        ),
    )

    class Meta:
        verbose_name = _("inbound delivery")
        verbose_name_plural = _("inbound deliveries")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.external_id or '—'} · {self.get_outcome_display()}"


class SeenSignature(models.Model):
    """Signatures already accepted, so a captured request cannot be replayed."""

    system = models.ForeignKey(ExternalSystem, on_delete=models.CASCADE, related_name="+")
    signature = models.CharField(max_length=64)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("accepted signature")
        verbose_name_plural = _("accepted signatures")
        constraints = [
            models.UniqueConstraint(fields=["system", "signature"], name="unique_seen_signature")
        ]

    def __str__(self) -> str:
        return f"{self.signature[:12]}… {self.seen_at:%Y-%m-%d %H:%M:%S}"


class OutboundQuerySet(CaseOwnedQuerySet):
    def due(self, now=None) -> OutboundQuerySet:
        now = now or timezone.now()
        return self.filter(state=OutboundState.PENDING, next_attempt_at__lte=now).filter(
            Q(leased_until__isnull=True) | Q(leased_until__lt=now)
        )


class OutboundMessage(models.Model):
    """A status change of an imported case, to be delivered to its system until acknowledged."""

    system = models.ForeignKey(
        ExternalSystem,
        on_delete=models.PROTECT,
        related_name="outbox",
        verbose_name=_("external system"),
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="+", verbose_name=_("case")
    )
    event = models.OneToOneField(
        "cases.CaseEvent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("case event"),
    )
    payload = models.JSONField(_("payload"))
    state = models.CharField(
        _("state"), max_length=16, choices=OutboundState.choices, default=OutboundState.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    leased_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_status = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    objects = OutboundQuerySet.as_manager()

    class Meta:
        verbose_name = _("outbound status message")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="outbound_pending_due",
            ),
            models.Index(fields=["case", "id"], name="outbound_case_order"),
        ]

    def __str__(self) -> str:
        event = event_label(self.payload.get("event", ""))
        return f"{self.system.code} · {event} · {self.get_state_display()}"


class OutboundAttemptQuerySet(CaseOwnedQuerySet):
    case_path = "message__case"


class OutboundAttempt(models.Model):
    """One try at delivering an outbound message."""

    message = models.ForeignKey(
        OutboundMessage,
        on_delete=models.CASCADE,
        related_name="attempt_log",
        verbose_name=_("message"),
    )
    at = models.DateTimeField(_("time"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    objects = OutboundAttemptQuerySet.as_manager()

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} · {self.status_code or self.error[:40]}"
