"""A person's inbox: one row per thing they were told about a case.

Rows are written in the same transaction as the case event that causes them
(``cases.signals.case_event_saved``), so a committed event always has its
notifications and a rolled-back one never does. The text is composed when
read, in the reader's language.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import Case, CaseEvent, CaseOwnedQuerySet
from notifications.choices import NotificationKind


class NotificationQuerySet(CaseOwnedQuerySet):
    def visible_to(self, user) -> models.QuerySet:
        """A person's own notifications; superusers (the back office) read everyone's.

        Narrower than the case: nobody reads what another person was told. Wider in
        one way: a person keeps their own notification of a case since taken from
        them (withdrawn, returned), since it is how they learnt it.
        """
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        return self.all() if user.is_superuser else self.filter(recipient=user)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=gettext_lazy("recipient"),
    )
    kind = models.CharField(gettext_lazy("kind"), max_length=20, choices=NotificationKind.choices)
    case = models.ForeignKey(
        Case,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=gettext_lazy("case"),
    )
    event = models.ForeignKey(
        CaseEvent,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=gettext_lazy("case event"),
    )
    created_at = models.DateTimeField(gettext_lazy("time"), default=timezone.now)
    read_at = models.DateTimeField(gettext_lazy("read at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = gettext_lazy("notification")
        verbose_name_plural = gettext_lazy("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One event tells one person one thing once, however often it is replayed.
            models.UniqueConstraint(
                fields=["recipient", "event", "kind"], name="unique_notification"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "created_at"], name="notification_inbox"),
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} · {self.get_kind_display()} · {self.case.number}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def message(self) -> str:
        """One line for the inbox, in the reader's language."""
        event, case = self.event, self.case
        who = str(event.actor) if event.actor_id else _("The system")
        department = (event.data or {}).get("department", "")
        texts = {
            NotificationKind.INVITED: _("You are invited to handle case %(number)s: %(title)s."),
            NotificationKind.TO_REVIEW: _("Case %(number)s waits for your review: %(title)s."),
            NotificationKind.DISPATCHED: _("Case %(number)s was approved and dispatched."),
            NotificationKind.ACCEPTED: _("%(who)s (%(department)s) accepted case %(number)s."),
            NotificationKind.DECLINED: _(
                "%(who)s (%(department)s) declined case %(number)s: %(note)s"
            ),
            NotificationKind.ALL_DECLINED: _(
                "Everyone invited declined case %(number)s: invite someone else."
            ),
            NotificationKind.SENT_BACK: _("Case %(number)s was sent back: %(note)s"),
            NotificationKind.COMPLETED: _("Case %(number)s was completed. Thank you."),
            NotificationKind.REOPENED: _("Case %(number)s was reopened: %(note)s"),
            NotificationKind.CANCELLED: _("Case %(number)s was cancelled: %(note)s"),
            NotificationKind.WITHDRAWN: _(
                "Your invitation to case %(number)s was withdrawn: %(note)s"
            ),
            NotificationKind.REMINDED: _("Reminder: case %(number)s waits for you."),
            NotificationKind.OVERDUE: _("Case %(number)s is past its deadline."),
            NotificationKind.ESCALATED: _(
                "Case %(number)s is escalated to you: it was not handled in time."
            ),
            NotificationKind.SUPERVISED: _("Supervision order on case %(number)s: %(note)s"),
            NotificationKind.SUPERVISION_ANSWERED: _(
                "%(who)s answered your supervision order on case %(number)s: %(note)s"
            ),
            NotificationKind.EXTENSION_REQUESTED: _(
                "%(who)s asks for more time on case %(number)s: %(note)s"
            ),
            NotificationKind.EXTENSION_DECIDED: _(
                "Your extension request on case %(number)s: %(decision)s."
            ),
            NotificationKind.RETURNED: _(
                "%(who)s (%(department)s) returned case %(number)s: %(note)s"
            ),
            NotificationKind.IMPORTED: _(
                "Case %(number)s was taken in from %(via)s: complete it and call the departments."
            ),
        }
        return texts[NotificationKind(self.kind)] % {
            "number": case.number,
            "title": case.title,
            "who": who,
            "department": department,
            "note": event.note,
            "via": (event.data or {}).get("via", ""),
            "decision": event.get_kind_display(),
        }
