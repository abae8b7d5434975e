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
#: States in which deadlines are chased and supervision applies.
SUPERVISED_STATES = (CaseState.DISPATCHED, CaseState.IN_PROGRESS)
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
    OPEN311 = "open311", _("Open311 client")


class InvitationState(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    RETURNED = "returned", _("Returned")


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
    # Supervision (the deadline sweep and the people who chase cases).
    REMINDED = "reminded", _("Reminder sent")
    ESCALATED = "escalated", _("Escalated to the grid leader")
    OVERDUE = "overdue", _("Past its handling deadline")
    SUPERVISED = "supervised", _("Supervision order issued")
    SUPERVISION_ANSWERED = "supervision_answered", _("Supervision order answered")
    EXTENSION_REQUESTED = "extension_requested", _("Extension requested")
    EXTENSION_APPROVED = "extension_approved", _("Extension approved")
    EXTENSION_REFUSED = "extension_refused", _("Extension refused")
    RETURNED = "returned", _("Returned by a department")
    REDISPATCHED = "redispatched", _("Dispatched again")


class StepKind(models.TextChoices):
    """What the deadline sweep did about a case (each once per deadline)."""

    RESPONSE_REMINDER = "response_reminder", _("Reminded: nobody accepted in time")
    RESPONSE_ESCALATION = "response_escalation", _("Escalated: still nobody accepted")
    OVERDUE = "overdue", _("Marked overdue and reminded")
    OVERDUE_ESCALATION = "overdue_escalation", _("Escalated: still overdue")
    ORDER_OVERDUE = "order_overdue", _("Supervision order not answered in time")


class OrderState(models.TextChoices):
    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered")


class ExtensionState(models.TextChoices):
    PENDING = "pending", _("Waiting for the commander")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
