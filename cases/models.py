"""The case, its invitations and its timeline.

The case's ``state`` is a django-fsm field: the transitions below are the only
way it changes, each guarded by a ``permission`` (who) and by its source
states and ``conditions`` (when). ``cases.services`` is the one caller: it
locks the row, runs the transition, writes the event.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts.choices import Role
from accounts.selectors import area_paths, department_ids, has_role
from cases import permissions
from cases.choices import (
    LIVE_STATES,
    CaseSource,
    CaseState,
    EventKind,
    ExtensionState,
    InvitationState,
    OrderState,
    StepKind,
)
from templates.choices import Priority

#: Roles that read every case.
READ_ALL_ROLES = (Role.AUDITOR, Role.SYSADMIN)
#: Roles that read the cases of their area's subtree.
AREA_READ_ROLES = (Role.VILLAGE_OFFICIAL, Role.COMMANDER, Role.GRID_LEADER, Role.LEADER)
#: Area scopes this deep or shallower (1 district, 2 town) read most cases (``visible_to``).
BROAD_SCOPE_DEPTH = 2


class InIdList(models.Lookup):
    """``field__in_id_list=<subquery>``: ``IN (subquery)``, on PostgreSQL as
    ``= ANY(ARRAY(subquery))``.

    The subquery then runs once, first (an InitPlan), and its ids drive an index scan of
    the outer table: a plain ``IN`` becomes a semi-join whose planner guesses the
    subquery's size and, for a few thousand ids, hash-joins them against a sequential
    scan of every case (growing with the district, not with the asker's own cases).
    """

    lookup_name = "in_id_list"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if not rhs.startswith("("):
            rhs = f"({rhs})"
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)
        return f"{lhs} IN {rhs}", (*lhs_params, *rhs_params)


models.BigAutoField.register_lookup(InIdList)
models.AutoField.register_lookup(InIdList)


def reads_every_case(user) -> bool:
    """Whether ``user`` reads every case (superusers, auditors, system administrators)."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or has_role(user, READ_ALL_ROLES))
    )


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user) -> CaseQuerySet:
        """The cases ``user`` may read (DESIGN.md roles; a case outside is a 404).

        Area roles see their subtree; staff the live cases they are invited to;
        department heads the live cases their departments are invited to;
        auditors and system administrators everything; callers their own.
        """
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if reads_every_case(user):
            return self
        from grids.models import Area

        live = [*LIVE_STATES, CaseState.CLOSED]
        paths = area_paths(user, AREA_READ_ROLES)
        heads_of = department_ids(user, [Role.DEPARTMENT_HEAD])
        invited = (
            Invitation.objects.order_by()
            .filter(case__state__in=live)
            .exclude(state=InvitationState.WITHDRAWN)
        )
        if any(path.count("/") <= BROAD_SCOPE_DEPTH + 1 for path in paths):
            # A district or town: most cases match, so one OR filter lets the
            # database walk the newest cases and stop at the page's end.
            condition = Q(caller=user)
            for path in paths:
                condition |= Q(community__path__startswith=path)
            condition |= Q(pk__in=invited.filter(person=user).values("case_id"))
            if heads_of:
                condition |= Q(pk__in=invited.filter(department_id__in=heads_of).values("case_id"))
            return self.filter(condition)
        # A grid, a community, a department: few cases match, and an OR of
        # these conditions would make PostgreSQL walk the whole created_at index
        # looking for them. A UNION of small indexed lookups finds them directly.
        cases = Case.objects.order_by()
        sources = [cases.filter(caller=user).values("pk")]
        if paths:
            in_area = Q()
            for path in paths:
                in_area |= Q(path__startswith=path)
            communities = Area.objects.order_by().filter(in_area).values("pk")
            sources.append(cases.filter(community__in=communities).values("pk"))
        sources.append(invited.filter(person=user).values("case_id"))
        if heads_of:
            sources.append(invited.filter(department_id__in=heads_of).values("case_id"))
        return self.filter(pk__in_id_list=sources[0].union(*sources[1:]))

    def in_area(self, area) -> CaseQuerySet:
        return self.filter(community__path__startswith=area.path)

    def overdue(self, now=None) -> CaseQuerySet:
        now = now or timezone.now()
        return self.filter(
            deadline__lt=now,
            state__in=[CaseState.DISPATCHED, CaseState.IN_PROGRESS],
        )


class CaseOwnedQuerySet(models.QuerySet):
    """Rows that belong to a case: read only where the case is (NetBox's ``restrict``).

    Every model with a non-null foreign key to ``Case`` (directly, or through
    another such model) uses a subclass as its manager, naming the path to the
    case in ``case_path``. ``core.api.viewsets.CaseScopedViewSetMixin`` and
    ``core.admin.CaseScopedAdminMixin`` call ``visible_to`` once for every API
    endpoint and admin page of such a model, so none can forget it;
    ``tests/cases/test_scoping.py`` finds the models by introspection.
    """

    #: The lookup path from this model to its case (``"case"``, ``"rating__case"``).
    case_path = "case"

    def visible_to(self, user) -> models.QuerySet:
        """The rows of the cases ``user`` may read (``Case.objects.visible_to``); none if anonymous.

        A subclass narrows it further where the rows are more private than the case.
        """
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if reads_every_case(user):
            return self.all()
        visible = Case.objects.visible_to(user).order_by().values("pk")
        return self.filter(**{f"{self.case_path}__in": visible})


def refusal(message):
    """Attach to a transition condition the message shown when it refuses (read by services)."""

    def mark(condition):
        condition.message = message
        return condition

    return mark


@refusal(_("Every participating department must be rated first."))
def _all_participants_rated(case) -> bool:
    memo = case.__dict__.get("condition_memo")  # the rating service knows it
    if memo is not None and "all_rated" in memo:
        return memo["all_rated"]
    return not case.unrated_departments().exists() and case.participating_departments().exists()


@refusal(_("Invite at least one person before dispatching."))
def _has_pending_invitation(case) -> bool:
    return _has_invitation_in(case, InvitationState.PENDING)


def _has_invitation_in(case, state: str) -> bool:
    """Whether an invitation of ``case`` is in ``state``: from the invitations the caller
    holds (``cases.permissions.held_invitations``) when it holds them, else one query."""
    from cases.permissions import held_invitations

    held = held_invitations(case)
    if held is not None:
        return any(i.state == state for i in held)
    memo = case.__dict__.get("condition_memo")  # set by a service while nothing changes
    if memo is not None and state in memo:
        return memo[state]
    found = case.invitations.filter(state=state).exists()
    if memo is not None:
        memo[state] = found
    return found


@refusal(_("Nobody has accepted the case yet."))
def _has_accepted_invitation(case) -> bool:
    return _has_invitation_in(case, InvitationState.ACCEPTED)


class Case(ConcurrentTransitionMixin, models.Model):
    """A problem a community cannot solve alone, and everything done about it."""

    number = models.CharField(_("number"), max_length=32, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        "templates.Category",
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("category"),
    )
    template = models.ForeignKey(
        "templates.CaseTemplate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("template"),
    )
    answers = models.JSONField(_("template answers"), default=dict, blank=True)
    community = models.ForeignKey(
        "grids.Area",
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("community"),
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="raised_cases",
        verbose_name=_("caller"),
    )
    source = models.CharField(
        _("source"), max_length=20, choices=CaseSource.choices, default=CaseSource.VILLAGE
    )
    external_id = models.CharField(_("external id"), max_length=64, blank=True, default="")
    priority = models.CharField(
        _("priority"), max_length=16, choices=Priority.choices, default=Priority.NORMAL
    )
    state = FSMField(
        _("state"),
        max_length=20,
        choices=CaseState.choices,
        default=CaseState.DRAFT,
        protected=True,
        db_index=True,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    first_accepted_at = models.DateTimeField(_("first accepted at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    response_deadline = models.DateTimeField(_("response deadline"), null=True, blank=True)
    deadline = models.DateTimeField(_("handling deadline"), null=True, blank=True, db_index=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at", "-id"]
        constraints = [
            # A second delivery of the same external case is the same case.
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="unique_external_case",
            ),
        ]
        indexes = [
            models.Index(fields=["community", "created_at"], name="case_community_created"),
            models.Index(fields=["state", "created_at"], name="case_state_created"),
            models.Index(fields=["category", "created_at"], name="case_category_created"),
            models.Index(fields=["caller", "created_at"], name="case_caller_created"),
            models.Index(fields=["source", "created_at"], name="case_source_created"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    # ------------------------------------------------------------- derived facts

    def participating_departments(self):
        from departments.models import Department

        return Department.objects.filter(
            invitations__case=self, invitations__state=InvitationState.ACCEPTED
        ).distinct()

    def unrated_departments(self):
        return self.participating_departments().exclude(ratings__case=self)

    @property
    def is_overdue(self) -> bool:
        return bool(
            self.deadline
            and self.state in (CaseState.DISPATCHED, CaseState.IN_PROGRESS)
            and timezone.now() > self.deadline
        )

    @staticmethod
    def response_limit() -> timedelta:
        return timedelta(minutes=settings.JINSHAO_RESPONSE_LIMIT_MINUTES)

    def handling_limit(self) -> timedelta:
        template = self.template if self.template_id else None
        hours = template.handling_limit_hours if template is not None else None
        if not hours:
            hours = settings.JINSHAO_HANDLING_LIMIT_HOURS.get(self.priority, 72)
        return timedelta(hours=hours)

    # --------------------------------------------------------------- transitions
    # Bodies only set the milestone times; locking, events and notifications
    # are the services' work.

    @transition(
        field=state,
        source=CaseState.DRAFT,
        target=CaseState.PENDING_REVIEW,
        permission=permissions.can_submit,
        custom={"label": _("Submit for review"), "admin": True},
    )
    def submit(self) -> None:
        self.submitted_at = timezone.now()

    @transition(
        field=state,
        source=CaseState.PENDING_REVIEW,
        target=CaseState.DISPATCHED,
        permission=permissions.can_review,
        conditions=[_has_pending_invitation],
        custom={"label": _("Approve and dispatch"), "admin": True},
    )
    def approve(self) -> None:
        from cases.deadlines import due_after

        now = timezone.now()
        self.dispatched_at = now
        self.response_deadline = due_after(now, self.response_limit())
        self.deadline = due_after(now, self.handling_limit())

    @transition(
        field=state,
        source=CaseState.PENDING_REVIEW,
        target=CaseState.DRAFT,
        permission=permissions.can_review,
        custom={"label": _("Send back"), "admin": True, "needs_reason": True},
    )
    def send_back(self) -> None:
        self.submitted_at = None

    @transition(
        field=state,
        source=[CaseState.DRAFT, CaseState.PENDING_REVIEW, CaseState.DISPATCHED],
        target=CaseState.CANCELLED,
        permission=permissions.can_steer,
        custom={"label": _("Cancel"), "admin": True, "needs_reason": True},
    )
    def cancel(self) -> None:
        self.cancelled_at = timezone.now()

    @transition(
        field=state,
        source=CaseState.DISPATCHED,
        target=CaseState.IN_PROGRESS,
        permission=permissions.system_only,
        conditions=[_has_accepted_invitation],
        custom={"admin": False},
    )
    def start(self) -> None:
        # The first acceptance ever: a re-dispatched case accepted again keeps it
        # (response = first acceptance − dispatch; docs/design-notes.md).
        if self.first_accepted_at is None:
            self.first_accepted_at = timezone.now()

    @transition(
        field=state,
        source=CaseState.IN_PROGRESS,
        target=CaseState.DISPATCHED,
        permission=permissions.system_only,
        conditions=[lambda case: not _has_accepted_invitation(case)],
        custom={"admin": False},
    )
    def hand_back(self) -> None:
        """Every department that took the case returned it: it waits for new invitees."""

    @transition(
        field=state,
        source=CaseState.IN_PROGRESS,
        target=CaseState.PENDING_RATING,
        permission=permissions.can_steer,
        conditions=[_has_accepted_invitation],
        custom={"label": _("Complete"), "admin": True},
    )
    def complete(self) -> None:
        self.completed_at = timezone.now()

    @transition(
        field=state,
        source=CaseState.PENDING_RATING,
        target=CaseState.IN_PROGRESS,
        permission=permissions.can_steer,
        custom={"label": _("Reopen"), "admin": True, "needs_reason": True},
    )
    def reopen(self) -> None:
        self.completed_at = None

    @transition(
        field=state,
        source=CaseState.PENDING_RATING,
        target=CaseState.CLOSED,
        permission=permissions.system_only,
        conditions=[_all_participants_rated],
        custom={"admin": False},
    )
    def close(self) -> None:
        self.closed_at = timezone.now()


class Invitation(models.Model):
    """A call to one person of one department to help on a case."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("case")
    )
    department = models.ForeignKey(
        "departments.Department",
        on_delete=models.PROTECT,
        related_name="invitations",
        verbose_name=_("department"),
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="invitations",
        verbose_name=_("person"),
    )
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=InvitationState.choices,
        default=InvitationState.PENDING,
    )
    reason = models.TextField(_("decline reason"), blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    invited_at = models.DateTimeField(_("invited at"), default=timezone.now)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)

    objects = CaseOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["invited_at", "id"]
        constraints = [
            # A person has at most one open (pending or accepted) invitation per case.
            models.UniqueConstraint(
                fields=["case", "person"],
                condition=Q(state__in=[InvitationState.PENDING, InvitationState.ACCEPTED]),
                name="one_open_invitation_per_person",
            ),
        ]
        indexes = [
            models.Index(fields=["person", "state"], name="invitation_person_state"),
            models.Index(fields=["department", "state"], name="invitation_department_state"),
        ]

    def __str__(self) -> str:
        return f"{self.case.number} → {self.person} ({self.department})"


class CaseEvent(models.Model):
    """One line of the case's timeline (全程留痕): who did what, from and to, when."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="events", verbose_name=_("case")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    from_state = models.CharField(_("from"), max_length=20, choices=CaseState.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=20, choices=CaseState.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    invitation = models.ForeignKey(
        Invitation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("invitation"),
    )
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    objects = CaseOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="event_case_created")]

    def __str__(self) -> str:
        return f"{self.case.number} · {self.get_kind_display()}"


class CaseNumberSequence(models.Model):
    """The last case number given out in a year (row-locked when incremented)."""

    year = models.PositiveIntegerField(_("year"), primary_key=True)
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("case number sequence")
        verbose_name_plural = _("case number sequences")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


# ------------------------------------------------------------------ supervision


class SupervisionStep(models.Model):
    """A step the deadline sweep took on a case: unique per case, kind and deadline.

    The unique key is what makes the sweep exactly-once: two overlapping
    sweeps race for the same row and the loser skips. A new deadline (an
    approved extension, a new dispatch) starts a new round of steps.
    """

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="supervision_steps", verbose_name=_("case")
    )
    kind = models.CharField(_("kind"), max_length=24, choices=StepKind.choices)
    due_at = models.DateTimeField(_("deadline"))
    taken_at = models.DateTimeField(_("taken at"), default=timezone.now)
    event = models.OneToOneField(
        CaseEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = CaseOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("supervision step")
        verbose_name_plural = _("supervision steps")
        ordering = ["-taken_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind", "due_at"], name="one_step_per_deadline")
        ]

    def __str__(self) -> str:
        return f"{self.case.number} · {self.get_kind_display()}"


class SupervisionOrder(models.Model):
    """A leader's supervision order (督办): an instruction and the time it must be answered by."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="supervision_orders", verbose_name=_("case")
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issued by"),
    )
    instruction = models.TextField(_("instruction"))
    due_at = models.DateTimeField(_("answer due"))
    state = models.CharField(
        _("state"), max_length=16, choices=OrderState.choices, default=OrderState.OPEN
    )
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("issued at"), default=timezone.now)

    objects = CaseOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("supervision order")
        verbose_name_plural = _("supervision orders")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "due_at"], name="order_state_due")]

    def __str__(self) -> str:
        return f"{self.case.number} · {self.instruction[:30]}"


class ExtensionRequest(models.Model):
    """Handling staff ask for more time (延期); the commander approves or refuses."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="extension_requests", verbose_name=_("case")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    reason = models.TextField(_("reason"))
    current_deadline = models.DateTimeField(_("deadline when asked"), null=True, blank=True)
    requested_deadline = models.DateTimeField(_("deadline asked for"))
    state = models.CharField(
        _("state"), max_length=16, choices=ExtensionState.choices, default=ExtensionState.PENDING
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
    decision_note = models.TextField(_("decision note"), blank=True)
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)

    objects = CaseOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(state="pending"),
                name="one_pending_extension_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case.number} · {self.get_state_display()}"


class Holiday(models.Model):
    """A day off, or a weekend day worked (调休), for the optional working-hours calendar."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=50)
    is_workday = models.BooleanField(
        _("working day"),
        default=False,
        help_text=_("Ticked: a weekend day that is worked (调休). Unticked: a day off."),
    )

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holiday calendar")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


def photo_upload_path(instance: PhotoUpload, filename: str) -> str:
    """``uploads/<yyyy>/<mm>/<random>.jpg``: nothing of the sender's file name."""
    import secrets

    now = timezone.now()
    return f"uploads/{now:%Y/%m}/{secrets.token_hex(16)}.jpg"


class PhotoUpload(models.Model):
    """A photo uploaded before its case exists (``POST /api/v1/uploads/``), for a template's
    photo field: the field's value is a list of these ids. Owned by its uploader until a
    case they raise or edit names it (then it is the case's); unused, it expires."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    case = models.ForeignKey(
        Case,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="photo_uploads",
        verbose_name=_("case"),
    )
    file = models.FileField(_("file"), upload_to=photo_upload_path, max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("photo upload")
        verbose_name_plural = _("photo uploads")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.id)
