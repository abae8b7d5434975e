from django.db import models
from django.utils.translation import gettext_lazy as _


class FieldKind(models.TextChoices):
    """What a template form field holds; the phone renders it, the server checks it."""

    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    CHOICE = "choice", _("Choice")
    DATE = "date", _("Date")
    PHOTO = "photo", _("Photo")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")
