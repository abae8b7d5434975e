from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING_REVIEW = "pending_review", _("Pending review")
    DISPATCHED = "dispatched", _("Dispatched")
    IN_PROGRESS = "in_progress", _("In progress")
    PENDING_RATING = "pending_rating", _("Pending rating")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


#: States in which the case is live for the invited departments.
LIVE_STATES = (CaseState.DISPATCHED, CaseState.IN_PROGRESS, CaseState.PENDING_RATING)
#: States in which people may still be invited.
INVITABLE_STATES = (
    CaseState.DRAFT,
    CaseState.PENDING_REVIEW,
    CaseState.DISPATCHED,
    CaseState.IN_PROGRESS,
)


class CaseSource(models.TextChoices):
    VILLAGE = "village", _("Raised by a village or community")
    GRID_PLATFORM = "grid_platform", _("City grid platform")
    HOTLINE = "hotline_12345", _("12345 hotline")


class InvitationState(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    EDITED = "edited", _("Edited")
    SUBMITTED = "submitted", _("Submitted for review")
    SENT_BACK = "sent_back", _("Sent back")
    APPROVED = "approved", _("Approved and dispatched")
    CANCELLED = "cancelled", _("Cancelled")
    INVITED = "invited", _("Person invited")
    ACCEPTED = "accepted", _("Invitation accepted")
    DECLINED = "declined", _("Invitation declined")
    WITHDRAWN = "withdrawn", _("Invitation withdrawn")
    ALL_DECLINED = "all_declined", _("Every invitation declined")
    COMPLETED = "completed", _("Completed")
    REOPENED = "reopened", _("Reopened")
    RATED = "rated", _("Department rated")
    CLOSED = "closed", _("Closed")
