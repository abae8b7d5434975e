from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class FieldKind(models.TextChoices):
    """What a template form field holds; the phone renders it, the server checks it."""

    TEXT = "text", pgettext_lazy("template field kind", "Text")
    NUMBER = "number", pgettext_lazy("template field kind", "Number")
    CHOICE = "choice", _("Choice")
    DATE = "date", _("Date")
    PHOTO = "photo", pgettext_lazy("template field kind", "Photo")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")
