"""The answers kept for requests sent with an ``Idempotency-Key`` (core.api.idempotency)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotentRequest(models.Model):
    """One write a person sent with a key, and the answer it got.

    A row is written in the same transaction as the write's effect and becomes
    visible with it: a committed row always holds its answer, and an effect
    committed through a keyed request always has its row. While the first
    request runs, the uncommitted row's place in the unique index is what makes
    a concurrent duplicate wait (``idempotency.services.reserve``).

    ``fingerprint`` is the SHA-256 (hex) of the request's parsed body, uploaded
    files by their own SHA-256 (``core.api.idempotency.request_fingerprint``).
    Rows older than ``JINSHAO_IDEMPOTENCY_KEY_HOURS`` are expired: ignored,
    then deleted by ``purge_expired``.
    """

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("person"),
    )
    key = models.CharField(_("idempotency key"), max_length=255)
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=2000)
    fingerprint = models.CharField(_("request digest"), max_length=64)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True)
    response_body = models.JSONField(_("response body"), null=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("repeated-request key")
        verbose_name_plural = _("repeated-request keys")
        constraints = [
            models.UniqueConstraint(fields=["person", "key"], name="idempotency_one_key_a_person")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} · {self.key}"
