from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    """Why a person is told about a case."""

    INVITED = "invited", _("Invited to a case")
    TO_REVIEW = "to_review", _("Case waiting for review")
    DISPATCHED = "dispatched", _("Case dispatched")
    ACCEPTED = "accepted", _("Invitation accepted")
    DECLINED = "declined", _("Invitation declined")
    ALL_DECLINED = "all_declined", _("Every invitation declined")
    SENT_BACK = "sent_back", _("Case sent back")
    COMPLETED = "completed", _("Case completed")
    REOPENED = "reopened", _("Case reopened")
    CANCELLED = "cancelled", _("Case cancelled")
    WITHDRAWN = "withdrawn", _("Invitation withdrawn")
    # Written by the deadline sweep (supervision).
    REMINDED = "reminded", _("Reminder")
    OVERDUE = "overdue", _("Case overdue")
    ESCALATED = "escalated", _("Case escalated to you")
    SUPERVISED = "supervised", _("Supervision order")
    SUPERVISION_ANSWERED = "supervision_answered", _("Supervision order answered")
    EXTENSION_REQUESTED = "extension_requested", _("Extension requested")
    EXTENSION_DECIDED = "extension_decided", _("Extension decided")
    RETURNED = "returned", _("Case returned by a department")
    IMPORTED = "imported", _("Case taken in from the city platform")
