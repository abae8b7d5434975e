"""Every operation that changes a case: the one place admin, API, chat and tasks call.

Each service is atomic, takes the acting person as keyword-only ``actor``,
locks the case row (``SELECT … FOR UPDATE``) before deciding anything, records
a ``CaseEvent`` and announces it with ``case_event_recorded`` once the
transaction commits. A refused operation raises a ``core.errors`` error and
changes nothing.

Concurrency: the services compare the state the caller saw with the state
under the lock. Two commanders approving together: the first wins, the second
gets ``Conflict``. Two invited people accepting together: both invitations end
accepted (an acceptance does not depend on the case's state within the live
states) and only the first moves the case to ``in_progress``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from cases import permissions
from cases.choices import (
    INVITABLE_STATES,
    CaseSource,
    CaseState,
    EventKind,
    InvitationState,
)
from cases.models import Case, CaseEvent, CaseNumberSequence, Invitation
from cases.signals import case_event_recorded, case_event_saved
from core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from templates.services import validate_answers

# ------------------------------------------------------------------ helpers


def state_label(state: str) -> str:
    return str(CaseState(state).label)


def _lock(case: Case) -> Case:
    """The case re-read under a row lock, refusing if it moved since ``case`` was read."""
    locked = (
        Case.objects.select_for_update(of=("self",))
        .select_related("community", "template")
        .get(pk=case.pk)
    )
    if case.state != locked.state:
        raise Conflict(
            _("Case %(number)s was changed by someone else meanwhile: it is now %(state)s.")
            % {"number": locked.number, "state": state_label(locked.state)}
        )
    return locked


def _sync(target: Case, source: Case) -> None:
    """Bring the caller's instance up to the saved row (``state`` is protected)."""
    if target is not source:
        target.refresh_from_db()


def record_event(
    case: Case,
    kind: str,
    *,
    actor=None,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    invitation: Invitation | None = None,
    data: dict | None = None,
) -> CaseEvent:
    """Write one timeline line and announce it after commit."""
    event = CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=actor,
        from_state=from_state,
        to_state=to_state,
        note=note,
        invitation=invitation,
        data=data or {},
    )
    case_event_saved.send(sender=CaseEvent, case=case, event=event)
    transaction.on_commit(
        lambda: case_event_recorded.send(sender=CaseEvent, case=case, event=event)
    )
    return event


def _transition_error(case: Case, name: str) -> InvalidTransition:
    return InvalidTransition(
        _("Cannot %(action)s case %(number)s: it is %(state)s.")
        % {"action": _action_label(name), "number": case.number, "state": state_label(case.state)}
    )


def _action_label(name: str) -> str:
    labels = {
        "submit": _("submit"),
        "approve": _("approve"),
        "send_back": _("send back"),
        "cancel": _("cancel"),
        "start": _("start"),
        "complete": _("complete"),
        "reopen": _("reopen"),
        "close": _("close"),
    }
    return labels.get(name, name)


def _run_transition(
    case: Case, name: str, *, actor, kind: str, note: str = "", data: dict | None = None
) -> Case:
    """Lock, check state, conditions and permission, move, save, record."""
    locked = _lock(case)
    method = getattr(locked, name)
    transition = next(
        (
            t
            for t in locked.get_all_state_transitions()  # type: ignore[attr-defined]  # django-fsm
            if t.name == name and t.source in (locked.state, "*")
        ),
        None,
    )
    if transition is None:
        raise _transition_error(locked, name)
    if not transition.has_perm(locked, actor):
        raise PermissionDenied(
            _("You may not %(action)s case %(number)s.")
            % {"action": _action_label(name), "number": locked.number}
        )
    for condition in transition.conditions:
        if not condition(locked):
            raise InvalidTransition(getattr(condition, "message", _transition_error(locked, name)))
    from_state = locked.state
    method()
    try:
        locked.save()
    except ConcurrentTransition as exc:  # a writer slipped past the lock (not on PostgreSQL)
        raise Conflict(
            _("Case %(number)s was changed by someone else meanwhile.") % {"number": locked.number}
        ) from exc
    record_event(
        locked,
        kind,
        actor=actor,
        from_state=from_state,
        to_state=locked.state,
        note=note,
        data=data,
    )
    _sync(case, locked)
    return case


def _require_reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give a reason."), fields={field: [_("This field is required.")]})
    return reason


# ----------------------------------------------------------- case numbers


def allocate_case_number(year: int | None = None) -> str:
    """Next number of the year, e.g. ``FX-2024-000123`` (gap-free per year)."""
    from django.conf import settings

    year = year or timezone.localdate().year
    with transaction.atomic():
        try:
            with transaction.atomic():
                CaseNumberSequence.objects.get_or_create(year=year)
        except IntegrityError:  # created by a concurrent first case of the year
            pass
        seq = CaseNumberSequence.objects.select_for_update().get(year=year)
        seq.last += 1
        seq.save(update_fields=["last"])
    return f"{settings.JINSHAO_CASE_NUMBER_PREFIX}-{year}-{seq.last:06d}"


# ----------------------------------------------------------- raising a case


@transaction.atomic
def create_case(
    *,
    actor,
    community,
    title: str,
    description: str = "",
    template=None,
    category=None,
    answers: Any = None,
    address: str = "",
    latitude=None,
    longitude=None,
    priority: str | None = None,
    invitees: Sequence[tuple[Any, Any]] = (),
    caller=None,
    source: str = CaseSource.VILLAGE,
    external_id: str = "",
    submit: bool = False,
    via: str = "",
) -> Case:
    """Raise a case for ``community``, optionally inviting people and submitting at once.

    ``invitees`` are ``(department, person)`` pairs. The category and priority
    default to the template's. A village official raises for their own
    community; a commander may raise on someone's behalf.

    ``via`` names the external system a case is taken in from
    (``integrations``): then ``actor`` is ``None`` (the system acts), the
    ``caller`` must be able to raise cases in ``community``, and required
    template answers may wait for the caller.
    """
    if via:
        if actor is not None or caller is None or not permissions.can_raise_in(caller, community):
            raise PermissionDenied(
                _("Nobody can take this case for %(area)s.") % {"area": community}
            )
    elif not permissions.can_raise_in(actor, community):
        raise PermissionDenied(_("You may not raise cases for %(area)s.") % {"area": community})
    if community.level != 4:  # AreaLevel.COMMUNITY
        raise ValidationFailed(
            _("Cases are raised for a village or community."),
            fields={"community": [_("Choose a village or community.")]},
        )
    caller = caller or actor
    if not via and caller != actor and not (
        permissions.is_superuser(actor) or permissions.can_raise_in(caller, community)
    ):
        raise ValidationFailed(
            _("The caller must be an official of this community."),
            fields={"caller": [_("Not an official of this community.")]},
        )
    title = (title or "").strip()
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = [_("This field is required.")]
    if template is not None and not template.is_active:
        errors["template"] = [_("This template is no longer in use.")]
    category = category or (template.category if template is not None else None)
    if category is None:
        errors["category"] = [_("Choose a category or a template.")]
    if errors:
        raise ValidationFailed(_("The case is incomplete."), fields=errors)
    cleaned = validate_answers(template, answers, require_all=not via)
    case = Case.objects.create(
        number=allocate_case_number(),
        title=title,
        description=description or "",
        template=template,
        category=category,
        answers=cleaned,
        community=community,
        address=address or "",
        latitude=latitude,
        longitude=longitude,
        priority=priority or (template.default_priority if template is not None else "normal"),
        caller=caller,
        source=source,
        external_id=external_id or "",
    )
    record_event(
        case,
        EventKind.CREATED,
        actor=actor,
        to_state=case.state,
        data={"via": via} if via else None,
    )
    for department, person in invitees:
        invite_person(case, actor=actor, department=department, person=person)
    if submit:
        submit_case(case, actor=actor)
    return case


_EDITABLE_FIELDS = (
    "title",
    "description",
    "address",
    "latitude",
    "longitude",
    "priority",
    "category",
)


@transaction.atomic
def update_draft(case: Case, *, actor, answers: Any = None, **changes: Any) -> Case:
    """Edit a draft; the event lists each changed field with its old and new value."""
    locked = _lock(case)
    if locked.state != CaseState.DRAFT:
        raise InvalidTransition(
            _("Only a draft can be edited: case %(number)s is %(state)s.")
            % {"number": locked.number, "state": state_label(locked.state)}
        )
    if not permissions.can_submit(locked, actor):
        raise PermissionDenied(_("Only the caller may edit the draft."))
    unknown = set(changes) - set(_EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be edited."), fields={k: [_("Not editable.")] for k in unknown}
        )
    diff: dict[str, list[Any]] = {}
    for name, value in changes.items():
        old = getattr(locked, name)
        if name == "title" and not (value or "").strip():
            raise ValidationFailed(
                _("The case needs a title."), fields={"title": [_("This field is required.")]}
            )
        if old != value:
            diff[name] = [
                str(old) if old is not None else None,
                str(value) if value is not None else None,
            ]
            setattr(locked, name, value)
    if answers is not None:
        cleaned = validate_answers(locked.template, answers)
        if cleaned != locked.answers:
            diff["answers"] = [locked.answers, cleaned]
            locked.answers = cleaned
    if diff:
        locked.save()
        record_event(locked, EventKind.EDITED, actor=actor, data={"changes": diff})
    _sync(case, locked)
    return case


# ------------------------------------------------------------- transitions


@transaction.atomic
def submit_case(case: Case, *, actor, note: str = "") -> Case:
    """Draft → pending review, by the caller."""
    return _run_transition(case, "submit", actor=actor, kind=EventKind.SUBMITTED, note=note)


@transaction.atomic
def approve_case(case: Case, *, actor, note: str = "") -> Case:
    """Pending review → dispatched, by the commander; starts the clocks."""
    return _run_transition(case, "approve", actor=actor, kind=EventKind.APPROVED, note=note)


@transaction.atomic
def send_back_case(case: Case, *, actor, reason: str) -> Case:
    """Pending review → draft, by the commander, with a reason for the caller."""
    reason = _require_reason(reason)
    return _run_transition(case, "send_back", actor=actor, kind=EventKind.SENT_BACK, note=reason)


@transaction.atomic
def cancel_case(case: Case, *, actor, reason: str) -> Case:
    """Draft, pending review or dispatched → cancelled, by caller or commander."""
    reason = _require_reason(reason)
    return _run_transition(case, "cancel", actor=actor, kind=EventKind.CANCELLED, note=reason)


@transaction.atomic
def complete_case(case: Case, *, actor, note: str = "") -> Case:
    """In progress → pending rating, by caller or commander."""
    return _run_transition(case, "complete", actor=actor, kind=EventKind.COMPLETED, note=note)


@transaction.atomic
def reopen_case(case: Case, *, actor, reason: str) -> Case:
    """Pending rating → in progress, by caller or commander, with a reason."""
    reason = _require_reason(reason)
    return _run_transition(case, "reopen", actor=actor, kind=EventKind.REOPENED, note=reason)


def close_case_if_rated(case: Case, *, actor) -> bool:
    """Close the case when its last participating department has been rated.

    Called by ``ratings.services`` inside its transaction, with the case locked.
    """
    if case.state != CaseState.PENDING_RATING or case.unrated_departments().exists():
        return False
    _run_transition(case, "close", actor=actor, kind=EventKind.CLOSED)
    return True


# ------------------------------------------------------------- invitations


@transaction.atomic
def invite_person(case: Case, *, actor, department, person, note: str = "") -> Invitation:
    """Invite ``person`` of ``department`` to the case (caller or commander)."""
    from departments.models import StaffMembership

    locked = (
        Case.objects.select_for_update(of=("self",)).select_related("community").get(pk=case.pk)
    )
    if locked.state not in INVITABLE_STATES:
        raise InvalidTransition(
            _("Nobody can be invited to case %(number)s: it is %(state)s.")
            % {"number": locked.number, "state": state_label(locked.state)}
        )
    if not permissions.can_steer(locked, actor):
        raise PermissionDenied(
            _("You may not invite people to case %(number)s.") % {"number": locked.number}
        )
    if not department.is_active:
        raise ValidationFailed(
            _("This department is not active."), fields={"department": [_("Not active.")]}
        )
    if not StaffMembership.objects.active().filter(user=person, department=department).exists():
        raise ValidationFailed(
            _("%(person)s is not on the staff of %(department)s.")
            % {"person": person, "department": department},
            fields={"person": [_("Not a member of this department.")]},
        )
    if locked.invitations.filter(
        person=person, state__in=[InvitationState.PENDING, InvitationState.ACCEPTED]
    ).exists():
        raise ValidationFailed(
            _("%(person)s is already invited to this case.") % {"person": person},
            fields={"person": [_("Already invited.")]},
        )
    invitation = Invitation.objects.create(
        case=locked, department=department, person=person, invited_by=actor
    )
    record_event(
        locked,
        EventKind.INVITED,
        actor=actor,
        invitation=invitation,
        note=note,
        data={"department": department.name, "person": str(person)},
    )
    return invitation


def _lock_invitation(invitation: Invitation) -> tuple[Invitation, Case]:
    # Lock the case first, always, so acceptances of one case queue in one order.
    case = Case.objects.select_for_update().get(pk=invitation.case_id)
    locked = (
        Invitation.objects.select_for_update()
        .select_related("department", "person")
        .get(pk=invitation.pk)
    )
    if locked.state != invitation.state:
        raise Conflict(_("This invitation was answered meanwhile."))
    return locked, case


def _check_answerable(invitation: Invitation, case: Case, actor) -> None:
    if invitation.person_id != getattr(actor, "pk", None) and not permissions.is_superuser(actor):
        raise PermissionDenied(_("Only the invited person may answer this invitation."))
    if invitation.state != InvitationState.PENDING:
        raise InvalidTransition(
            _("This invitation is already %(state)s.") % {"state": invitation.get_state_display()}
        )
    if case.state not in (CaseState.DISPATCHED, CaseState.IN_PROGRESS):
        raise InvalidTransition(
            _("Case %(number)s cannot be answered now: it is %(state)s.")
            % {"number": case.number, "state": state_label(case.state)}
        )


@transaction.atomic
def accept_invitation(invitation: Invitation, *, actor, note: str = "") -> Invitation:
    """Accept; the first acceptance moves the case from dispatched to in progress."""
    locked, case = _lock_invitation(invitation)
    _check_answerable(locked, case, actor)
    locked.state = InvitationState.ACCEPTED
    locked.responded_at = timezone.now()
    locked.save(update_fields=["state", "responded_at"])
    from_state = case.state
    if case.state == CaseState.DISPATCHED:
        case.start()
        case.save()
    record_event(
        case,
        EventKind.ACCEPTED,
        actor=actor,
        invitation=locked,
        note=note,
        from_state=from_state if from_state != case.state else "",
        to_state=case.state if from_state != case.state else "",
        data={"department": locked.department.name},
    )
    invitation.state, invitation.responded_at = locked.state, locked.responded_at
    return invitation


@transaction.atomic
def decline_invitation(invitation: Invitation, *, actor, reason: str) -> Invitation:
    """Decline with a reason; when every invitation is declined the caller is told."""
    reason = _require_reason(reason)
    locked, case = _lock_invitation(invitation)
    _check_answerable(locked, case, actor)
    locked.state = InvitationState.DECLINED
    locked.reason = reason
    locked.responded_at = timezone.now()
    locked.save(update_fields=["state", "reason", "responded_at"])
    record_event(
        case,
        EventKind.DECLINED,
        actor=actor,
        invitation=locked,
        note=reason,
        data={"department": locked.department.name},
    )
    if not case.invitations.exclude(state=InvitationState.DECLINED).exists():
        record_event(case, EventKind.ALL_DECLINED, actor=None, data={"notify": [case.caller_id]})
    invitation.state, invitation.reason, invitation.responded_at = (
        locked.state,
        locked.reason,
        locked.responded_at,
    )
    return invitation


@transaction.atomic
def withdraw_invitation(invitation: Invitation, *, actor, reason: str) -> Invitation:
    """Take a person off the case (caller or commander); they leave its room at once."""
    reason = _require_reason(reason)
    locked, case = _lock_invitation(invitation)
    case = Case.objects.select_related("community").get(pk=case.pk)
    if not permissions.can_steer(case, actor):
        raise PermissionDenied(
            _("You may not withdraw invitations of case %(number)s.") % {"number": case.number}
        )
    if locked.state not in (InvitationState.PENDING, InvitationState.ACCEPTED):
        raise InvalidTransition(
            _("This invitation is already %(state)s.") % {"state": locked.get_state_display()}
        )
    if case.state in (CaseState.CLOSED, CaseState.CANCELLED):
        raise InvalidTransition(
            _("Case %(number)s is %(state)s: its invitations stay as they are.")
            % {"number": case.number, "state": state_label(case.state)}
        )
    locked.state = InvitationState.WITHDRAWN
    locked.reason = reason
    locked.responded_at = timezone.now()
    locked.save(update_fields=["state", "reason", "responded_at"])
    record_event(
        case,
        EventKind.WITHDRAWN,
        actor=actor,
        invitation=locked,
        note=reason,
        data={"department": locked.department.name, "person": str(locked.person)},
    )
    invitation.state, invitation.reason, invitation.responded_at = (
        locked.state,
        locked.reason,
        locked.responded_at,
    )
    return invitation


def available_transitions(case: Case, user) -> list[str]:
    """Names of the transitions ``user`` may fire on ``case`` now (for buttons and the API)."""
    return [
        t.name
        for t in case.get_available_user_state_transitions(user)  # type: ignore[attr-defined]
        if t.custom.get("admin", True)
    ]
