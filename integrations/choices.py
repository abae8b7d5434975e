from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class DeliveryOutcome(models.TextChoices):
    """What became of one inbound delivery."""

    CREATED = "created", _("Case created")
    DUPLICATE = "duplicate", _("Already taken in")
    REVIEW = "review", _("Sent to the review queue")
    REFUSED = "refused", pgettext_lazy("delivery outcome", "Refused")


class ReviewState(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    RESOLVED = "resolved", _("Case created")
    DISMISSED = "dismissed", _("Dismissed")


class OutboundState(models.TextChoices):
    PENDING = "pending", _("Waiting to be delivered")
    DELIVERED = "delivered", _("Delivered")
