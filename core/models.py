"""Abstract bases shared by every app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Creation and last-change times, kept by the database layer."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class FailedTask(models.Model):
    """A background task that failed for good, after its retries (never dropped silently)."""

    name = models.CharField(_("task"), max_length=200)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    arguments = models.JSONField(_("arguments"), default=dict)
    error = models.TextField(_("error"))
    failed_at = models.DateTimeField(_("failed at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("failed background task")
        verbose_name_plural = _("failed background tasks")
        ordering = ["-failed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} · {self.failed_at:%Y-%m-%d %H:%M}"
