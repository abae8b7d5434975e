"""Every operation that changes a case: the one place admin, API, chat and tasks call.

Each service is atomic, takes the acting person as keyword-only ``actor``,
locks the case row (``SELECT … FOR UPDATE``) before deciding anything, records
a ``CaseEvent`` and announces it with ``case_event_recorded`` once the
transaction commits. A refused operation raises a ``core.errors`` error and
changes nothing.

Lock order (every service, every task, so two transactions never wait on each
other in a cycle):

1. the case number sequence (``allocate_case_number``, only while raising a
   case, before any case row is locked: the year's row, locked by the
   ``UPDATE … RETURNING`` that takes the next number);
2. the case row (``_lock``: ``SELECT … FOR UPDATE OF cases_case``), always
   before any row that belongs to the case;
3. the case's own rows: an invitation, a supervision order, an extension
   request (each ``FOR UPDATE OF`` its own table only);
4. rows written, never locked, by the same transaction (events, ratings,
   notifications, chat lines, audit records).

Every ``select_for_update`` names the rows it means with ``of=("self",)``:
a ``select_related`` join must never lock the invited person, the department
or the community (those rows are read by every other case's transaction, and
PostgreSQL's foreign-key checks take a share lock on them at commit: locking
them ``FOR UPDATE`` deadlocked concurrent case lives, issue 16). A row found
through another (an order's case) is read unlocked first, then locked in the
order above.

Concurrency: the services compare the state the caller saw with the state
under the lock. Two commanders approving together: the first wins, the second
gets ``Conflict``. Two invited people accepting together: both invitations end
accepted (an acceptance does not depend on the case's state within the live
states) and only the first moves the case to ``in_progress``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from cases import permissions, uploads
from cases.choices import (
    INVITABLE_STATES,
    SUPERVISED_STATES,
    CaseSource,
    CaseState,
    EventKind,
    ExtensionState,
    InvitationState,
    OrderState,
    StepKind,
)
from cases.models import (
    Case,
    CaseEvent,
    CaseNumberSequence,
    ExtensionRequest,
    Invitation,
    SupervisionOrder,
    SupervisionStep,
)
from cases.signals import case_event_recorded, case_event_saved, case_events_saved
from core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from templates.services import validate_answers

ZERO = timedelta(0)

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


def _lock_by_id(case_id: int) -> Case:
    """The case under a row lock, as it is now (for a service that starts from a case's row)."""
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("community", "template")
        .get(pk=case_id)
    )


def _sync(target: Case, source: Case) -> None:
    """Bring the caller's instance up to the saved row (``state`` is protected).

    Copied from the locked instance the service just saved: no second read.
    """
    if target is not source:
        for f in Case._meta.concrete_fields:
            target.__dict__[f.attname] = getattr(source, f.attname)
        for name in ("community", "template"):  # the relations the lock read with the row
            if Case._meta.get_field(name).is_cached(source):
                Case._meta.get_field(name).set_cached_value(target, getattr(source, name))
        # The room's system lines the step posted (``chat.services.post_system_message``):
        # the answer's unread count adds them instead of reading the case again.
        posted = source.__dict__.pop("room_lines_posted", 0)
        if posted:
            target.__dict__["room_lines_posted"] = (
                target.__dict__.get("room_lines_posted", 0) + posted
            )


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


def record_events(case: Case, specs: Sequence[dict[str, Any]]) -> list[CaseEvent]:
    """Write several timeline lines of one step at once, announce each after commit.

    ``specs``: ``record_event``'s keyword arguments, one dict per event. One INSERT for
    the events; ``case_events_saved`` lets the audit log, the room and the inbox write
    theirs in one INSERT each too (``case_event_saved`` still reaches every other
    receiver once per event, with ``batched=True``).
    """
    events = CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case=case,
                kind=spec["kind"],
                actor=spec.get("actor"),
                from_state=spec.get("from_state", ""),
                to_state=spec.get("to_state", ""),
                note=spec.get("note", ""),
                invitation=spec.get("invitation"),
                data=spec.get("data") or {},
            )
            for spec in specs
        ]
    )
    if not events:
        return events
    case_events_saved.send(sender=CaseEvent, case=case, events=events)
    for event in events:
        case_event_saved.send(sender=CaseEvent, case=case, event=event, batched=True)

    def announce() -> None:
        for event in events:
            case_event_recorded.send(sender=CaseEvent, case=case, event=event)

    transaction.on_commit(announce)
    return events


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


def check_may_transition(case: Case, name: str, actor) -> None:
    """A state-machine transition's guard: its source state, its permission, its conditions.

    Raises ``InvalidTransition`` (state or condition) or ``PermissionDenied``.
    """
    transition = next(
        (
            t
            for t in case.get_all_state_transitions()  # type: ignore[attr-defined]  # django-fsm
            if t.name == name and t.source in (case.state, "*")
        ),
        None,
    )
    if transition is None:
        raise _transition_error(case, name)
    if not transition.has_perm(case, actor):
        raise PermissionDenied(
            _("You may not %(action)s case %(number)s.")
            % {"action": _action_label(name), "number": case.number}
        )
    for condition in transition.conditions:
        if not condition(case):
            raise InvalidTransition(getattr(condition, "message", _transition_error(case, name)))


def _run_transition(
    case: Case,
    name: str,
    *,
    actor,
    kind: str,
    note: str = "",
    data: dict | None = None,
    held: bool = False,
    memo: dict | None = None,
) -> Case:
    """Lock, check state, conditions and permission, move, save, record.

    ``held``: ``case`` is the row the caller's transaction has locked already (not locked
    again). ``memo``: answers to the transition's conditions the caller knows from rows it
    holds (``cases.models``' condition functions read them first).
    """
    locked = case if held else _lock(case)
    method = getattr(locked, name)
    # The guard checks the transition's conditions and django-fsm checks them again when
    # the method runs: nothing changes in between, so they are asked of the database once.
    locked.__dict__["condition_memo"] = dict(memo or {})
    try:
        check_may_transition(locked, name, actor)
        from_state = locked.state
        method()
    finally:
        locked.__dict__.pop("condition_memo", None)
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
    table = connection.ops.quote_name(CaseNumberSequence._meta.db_table)
    # One statement takes the year's row lock (held to the end of the caller's transaction,
    # like SELECT … FOR UPDATE) and the next number: PostgreSQL and SQLite ≥ 3.35 both
    # have UPDATE … RETURNING.
    last, year_column = (connection.ops.quote_name(c) for c in ("last", "year"))
    bump = f"UPDATE {table} SET {last} = {last} + 1 WHERE {year_column} = %s RETURNING {last}"
    with connection.cursor() as cursor:
        cursor.execute(bump, [year])
        row = cursor.fetchone()
    if row is None:  # the year's first case
        try:
            with transaction.atomic():
                CaseNumberSequence.objects.create(year=year, last=0)
        except IntegrityError:  # created by a concurrent first case of the year
            pass
        with connection.cursor() as cursor:
            cursor.execute(bump, [year])
            row = cursor.fetchone()
    return f"{settings.JINSHAO_CASE_NUMBER_PREFIX}-{year}-{row[0]:06d}"


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
    if (
        not via
        and caller != actor
        and not (permissions.is_superuser(actor) or permissions.can_raise_in(caller, community))
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
    photos = {} if via else uploads.check_photos(None, template, cleaned, actor=actor)
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
    uploads.attach_photos(case, photos)
    record_event(
        case,
        EventKind.CREATED,
        actor=actor,
        to_state=case.state,
        data={"via": via} if via else None,
    )
    # The case is this transaction's own new row (no one else sees it before commit): its
    # invitations need no lock and no duplicate query per invitee.
    # The active memberships among the invitees: one query for all of them.
    invited_now: set[int] = set()
    members: set[tuple[int, int]] = set()
    if invitees:
        from departments.models import StaffMembership

        members = set(
            StaffMembership.objects.active()
            .filter(
                user__in={p.pk for _d, p in invitees},
                department__in={d.pk for d, _p in invitees},
            )
            .values_list("user_id", "department_id")
        )
    _invite_all(case, actor=actor, invitees=invitees, members=members, invited_now=invited_now)
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


def check_may_edit_draft(case: Case, actor) -> None:
    """``update_draft``'s guard: a draft, edited by whoever may submit it."""
    if case.state != CaseState.DRAFT:
        raise InvalidTransition(
            _("Only a draft can be edited: case %(number)s is %(state)s.")
            % {"number": case.number, "state": state_label(case.state)}
        )
    if not permissions.can_submit(case, actor):
        raise PermissionDenied(_("Only the caller may edit the draft."))


@transaction.atomic
def update_draft(case: Case, *, actor, answers: Any = None, **changes: Any) -> Case:
    """Edit a draft; the event lists each changed field with its old and new value."""
    locked = _lock(case)
    check_may_edit_draft(locked, actor)
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
        uploads.attach_photos(
            locked, uploads.check_photos(locked, locked.template, cleaned, actor=actor)
        )
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


def close_case_if_rated(case: Case, *, actor, all_rated: bool | None = None) -> bool:
    """Close the case when its last participating department has been rated.

    Called by ``ratings.services`` inside its transaction, with the case locked (so it is
    not locked again). ``all_rated``: whether every participating department is rated now,
    when the caller knows it from the rows it has just read and written (else asked).
    """
    if case.state != CaseState.PENDING_RATING:
        return False
    if all_rated is None:
        all_rated = not case.unrated_departments().exists()
    if not all_rated:
        return False
    _run_transition(
        case, "close", actor=actor, kind=EventKind.CLOSED, held=True, memo={"all_rated": True}
    )
    return True


# ------------------------------------------------------------- invitations


def check_may_invite(case: Case, actor) -> None:
    """``invite_person``'s guard: an invitable state, the caller or a commander."""
    if case.state not in INVITABLE_STATES:
        raise InvalidTransition(
            _("Nobody can be invited to case %(number)s: it is %(state)s.")
            % {"number": case.number, "state": state_label(case.state)}
        )
    if not permissions.can_steer(case, actor):
        raise PermissionDenied(
            _("You may not invite people to case %(number)s.") % {"number": case.number}
        )


@transaction.atomic
def invite_person(case: Case, *, actor, department, person, note: str = "") -> Invitation:
    """Invite ``person`` of ``department`` to the case (caller or commander)."""
    locked = (
        Case.objects.select_for_update(of=("self",)).select_related("community").get(pk=case.pk)
    )
    return _invite(locked, actor=actor, department=department, person=person, note=note)


def _invite(
    locked: Case,
    *,
    actor,
    department,
    person,
    note: str = "",
    invited_now: set[int] | None = None,
    members: set[tuple[int, int]] | None = None,
) -> Invitation:
    """``invite_person`` on a case the caller holds locked (inside its transaction).

    ``invited_now``: for a case created in this very transaction (``create_case``), the
    person ids invited so far; it has no other invitations, so the duplicate check is
    this set instead of a query (and the set is updated). ``members``: the active
    ``(user id, department id)`` memberships among the invitees, read once by the caller.
    """
    _check_invitee(
        locked,
        actor=actor,
        department=department,
        person=person,
        invited_now=invited_now,
        members=members,
    )
    invitation = Invitation.objects.create(
        case=locked, department=department, person=person, invited_by=actor
    )
    if invited_now is not None:
        invited_now.add(person.pk)
    record_event(
        locked,
        EventKind.INVITED,
        actor=actor,
        invitation=invitation,
        note=note,
        data={"department": department.name, "person": str(person)},
    )
    return invitation


def _check_invitee(
    locked: Case,
    *,
    actor,
    department,
    person,
    invited_now: set[int] | None,
    members: set[tuple[int, int]] | None,
) -> None:
    """``_invite``'s checks: may invite, an active department, a member, not yet invited."""
    from departments.models import StaffMembership

    check_may_invite(locked, actor)
    if not department.is_active:
        raise ValidationFailed(
            _("This department is not active."), fields={"department": [_("Not active.")]}
        )
    if not (
        (person.pk, department.pk) in members
        if members is not None
        else StaffMembership.objects.active().filter(user=person, department=department).exists()
    ):
        raise ValidationFailed(
            _("%(person)s is not on the staff of %(department)s.")
            % {"person": person, "department": department},
            fields={"person": [_("Not a member of this department.")]},
        )
    if (
        person.pk in invited_now
        if invited_now is not None
        else locked.invitations.filter(
            person=person, state__in=[InvitationState.PENDING, InvitationState.ACCEPTED]
        ).exists()
    ):
        raise ValidationFailed(
            _("%(person)s is already invited to this case.") % {"person": person},
            fields={"person": [_("Already invited.")]},
        )


def _invite_all(
    case: Case,
    *,
    actor,
    invitees: Sequence[tuple[Any, Any]],
    members: set[tuple[int, int]],
    invited_now: set[int],
) -> list[Invitation]:
    """``_invite`` for every invitee of a case this transaction has just created.

    Each invitee passes ``_invite``'s checks (in order: the first refusal raises and the
    whole raise rolls back), then one INSERT each for the invitations and their events;
    the audit records, room lines and notifications follow in one INSERT each
    (``record_events``). No case lock: nobody else sees the new row before the commit.
    The analytics day needs no second mark: creating the case marked it in this
    transaction (``bulk_create`` sends no ``post_save``).
    """
    invitations = []
    for department, person in invitees:
        _check_invitee(
            case,
            actor=actor,
            department=department,
            person=person,
            invited_now=invited_now,
            members=members,
        )
        invited_now.add(person.pk)
        invitations.append(
            Invitation(case=case, department=department, person=person, invited_by=actor)
        )
    if not invitations:
        return invitations
    Invitation.objects.bulk_create(invitations)
    record_events(
        case,
        [
            {
                "kind": EventKind.INVITED,
                "actor": actor,
                "invitation": invitation,
                "data": {
                    "department": invitation.department.name,
                    "person": str(invitation.person),
                },
            }
            for invitation in invitations
        ],
    )
    return invitations


def _lock_invitation(invitation: Invitation) -> tuple[Invitation, Case]:
    """The case, then the invitation, each locked alone (the module's lock order)."""
    # Lock the case first, always, so acceptances of one case queue in one order. ``of``:
    # the joined department and person rows are read, not locked (see the module docstring).
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("community", "category", "caller")  # read for the answer, not locked
        .get(pk=invitation.case_id)
    )
    locked = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("department", "person")
        .get(pk=invitation.pk)
    )
    if locked.state != invitation.state:
        raise Conflict(_("This invitation was answered meanwhile."))
    locked.case = case  # the row just locked: receivers of its save need not read it again
    return locked, case


def check_may_answer_invitation(invitation: Invitation, case: Case, actor) -> None:
    """``accept_invitation``'s and ``decline_invitation``'s guard: the invited person,
    a pending invitation, a dispatched or in-progress case."""
    _check_answerable(invitation, case, actor)


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
        # Its condition (an accepted invitation) is the one just saved: not asked again.
        case.__dict__["condition_memo"] = {InvitationState.ACCEPTED: True}
        try:
            case.start()
        finally:
            case.__dict__.pop("condition_memo", None)
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
    invitation.case = case  # the case as it is now, for the answer (``updated_case``)
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


def check_may_withdraw(invitation: Invitation, case: Case, actor) -> None:
    """``withdraw_invitation``'s guard: the caller or a commander, an open invitation,
    a case neither closed nor cancelled."""
    if not permissions.can_steer(case, actor):
        raise PermissionDenied(
            _("You may not withdraw invitations of case %(number)s.") % {"number": case.number}
        )
    if invitation.state not in (InvitationState.PENDING, InvitationState.ACCEPTED):
        raise InvalidTransition(
            _("This invitation is already %(state)s.") % {"state": invitation.get_state_display()}
        )
    if case.state in (CaseState.CLOSED, CaseState.CANCELLED):
        raise InvalidTransition(
            _("Case %(number)s is %(state)s: its invitations stay as they are.")
            % {"number": case.number, "state": state_label(case.state)}
        )


@transaction.atomic
def withdraw_invitation(invitation: Invitation, *, actor, reason: str) -> Invitation:
    """Take a person off the case (caller or commander); they leave its room at once."""
    reason = _require_reason(reason)
    locked, case = _lock_invitation(invitation)
    case = Case.objects.select_related("community").get(pk=case.pk)
    check_may_withdraw(locked, case, actor)
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
    # django-fsm's ``get_available_user_state_transitions`` with the cheap tests first: the
    # transitions shown (``admin``) from this state, then permission, then the conditions
    # (which may query), so a hidden or forbidden transition never runs its conditions.
    state_field = Case._meta.get_field("state")
    names = []
    for method in state_field.transitions[Case].values():
        meta = method._django_fsm
        if not meta.has_transition(case.state):
            continue
        transition = meta.get_transition(case.state)
        if (
            transition.custom.get("admin", True)
            and transition.has_perm(case, user)
            and meta.conditions_met(case, case.state)
        ):
            names.append(transition.name)
    return names


def available_actions(case: Case, user) -> list[str]:
    """Every operation ``user`` may take on ``case`` now: the names of
    ``cases.operations.OPERATIONS`` whose predicate holds (see there)."""
    from cases.operations import available_operations

    return available_operations(user, case)


# ------------------------------------------------------------- supervision
# Deadlines chase themselves: ``sweep_deadlines`` reminds and escalates, each
# step once per deadline (``SupervisionStep`` is unique on case, kind and
# deadline, and the case row is locked while a step is taken). People act on
# cases too: supervision orders (督办), extensions (延期), returns (退回).


def _require_live(case: Case, action: str) -> None:
    if case.state not in SUPERVISED_STATES:
        raise InvalidTransition(
            _("Cannot %(action)s case %(number)s: it is %(state)s.")
            % {"action": action, "number": case.number, "state": state_label(case.state)}
        )


def _future(value, field: str, *, after=None):
    from datetime import datetime

    if not isinstance(value, datetime):
        raise ValidationFailed(
            _("Give a date and time."), fields={field: [_("Expected a date and time.")]}
        )
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    floor = max(timezone.now(), after) if after is not None else timezone.now()
    if value <= floor:
        raise ValidationFailed(
            _("The time must be later than %(time)s.")
            % {"time": timezone.localtime(floor).strftime("%Y-%m-%d %H:%M")},
            fields={field: [_("Too early.")]},
        )
    return value


def check_may_supervise(case: Case, actor) -> None:
    """``issue_supervision_order``'s guard: a leader or grid leader over it, a live case."""
    if not permissions.can_supervise(case, actor):
        raise PermissionDenied(
            _("You may not supervise case %(number)s.") % {"number": case.number}
        )
    _require_live(case, _("supervise"))


@transaction.atomic
def issue_supervision_order(case: Case, *, actor, instruction: str, due_at) -> SupervisionOrder:
    """A leader or grid leader orders the handlers to act by ``due_at`` (督办)."""
    locked = _lock(case)
    check_may_supervise(locked, actor)
    instruction = _require_reason(instruction, "instruction")
    due_at = _future(due_at, "due_at")
    order = SupervisionOrder.objects.create(
        case=locked, issued_by=actor, instruction=instruction, due_at=due_at
    )
    record_event(
        locked,
        EventKind.SUPERVISED,
        actor=actor,
        note=instruction,
        data={"order": order.pk, "due_at": due_at.isoformat()},
    )
    return order


def check_may_answer_order(order: SupervisionOrder, case: Case, actor) -> None:
    """``answer_supervision_order``'s guard: an open order, a handler or the commander."""
    if order.state != OrderState.OPEN:
        raise InvalidTransition(_("This supervision order is already answered."))
    if not (permissions.is_handler(case, actor) or permissions.can_review(case, actor)):
        raise PermissionDenied(_("Only the people handling the case may answer this order."))


@transaction.atomic
def answer_supervision_order(order: SupervisionOrder, *, actor, answer: str) -> SupervisionOrder:
    """A handler (or the commander) says what was done about the order."""
    case = _lock_by_id(order.case_id)  # the case first: the module's lock order
    locked = SupervisionOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)
    check_may_answer_order(locked, case, actor)
    locked.answer = _require_reason(answer, "answer")
    locked.state, locked.answered_by, locked.answered_at = (
        OrderState.ANSWERED,
        actor,
        timezone.now(),
    )
    locked.save(update_fields=["answer", "state", "answered_by", "answered_at"])
    record_event(
        case,
        EventKind.SUPERVISION_ANSWERED,
        actor=actor,
        note=locked.answer,
        data={"order": locked.pk, "notify": [locked.issued_by_id]},
    )
    _copy(order, locked, "answer", "state", "answered_by_id", "answered_at")
    return order


def check_may_ask_extension(case: Case, actor) -> None:
    """``request_extension``'s guard: a handler (or a superuser), a live case, no request
    already waiting for a decision."""
    if not (permissions.is_handler(case, actor) or permissions.is_superuser(actor)):
        raise PermissionDenied(_("Only the people handling the case may ask for more time."))
    _require_live(case, _("extend"))
    pending = getattr(case, "pending_extension_id", True)  # annotated by the case's read
    if (
        pending is not None
        and ExtensionRequest.objects.filter(case=case, state=ExtensionState.PENDING).exists()
    ):
        raise InvalidTransition(
            _("An extension request for this case already waits for a decision.")
        )


@transaction.atomic
def request_extension(case: Case, *, actor, reason: str, until) -> ExtensionRequest:
    """A handler asks for a later handling deadline (延期); the commander decides."""
    locked = _lock(case)
    check_may_ask_extension(locked, actor)
    reason = _require_reason(reason)
    until = _future(until, "until", after=locked.deadline)
    request = ExtensionRequest.objects.create(
        case=locked,
        requested_by=actor,
        reason=reason,
        current_deadline=locked.deadline,
        requested_deadline=until,
    )
    record_event(
        locked,
        EventKind.EXTENSION_REQUESTED,
        actor=actor,
        note=reason,
        data={"extension": request.pk, "until": until.isoformat()},
    )
    return request


def check_may_decide_extension(request: ExtensionRequest, case: Case, actor) -> None:
    """``decide_extension``'s guard: a pending request, the commander."""
    if request.state != ExtensionState.PENDING:
        raise InvalidTransition(
            _("This extension request is already %(state)s.")
            % {"state": request.get_state_display()}
        )
    if not permissions.can_review(case, actor):
        raise PermissionDenied(_("Only the commander may decide on an extension."))


@transaction.atomic
def decide_extension(
    request: ExtensionRequest, *, actor, approve: bool, note: str = ""
) -> ExtensionRequest:
    """The commander approves (the deadline moves, the sweep starts a new round) or refuses."""
    case = _lock_by_id(request.case_id)  # the case first: the module's lock order
    locked = ExtensionRequest.objects.select_for_update(of=("self",)).get(pk=request.pk)
    check_may_decide_extension(locked, case, actor)
    if not approve:
        note = _require_reason(note, "note")
    locked.state = ExtensionState.APPROVED if approve else ExtensionState.REFUSED
    locked.decided_by, locked.decided_at, locked.decision_note = actor, timezone.now(), note
    locked.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    data = {"extension": locked.pk, "notify": [locked.requested_by_id]}
    if approve:
        data["from"] = case.deadline.isoformat() if case.deadline else None
        data["to"] = locked.requested_deadline.isoformat()
        case.deadline = locked.requested_deadline
        case.save(update_fields=["deadline", "updated_at"])
    record_event(
        case,
        EventKind.EXTENSION_APPROVED if approve else EventKind.EXTENSION_REFUSED,
        actor=actor,
        note=note,
        data=data,
    )
    _sync(request.case, case)
    _copy(request, locked, "state", "decided_by_id", "decided_at", "decision_note")
    return request


def check_may_return(case: Case, actor) -> None:
    """``return_case``'s guard: a live case, someone invited to it (or a superuser)."""
    _require_live(case, _("return"))
    if not (permissions.holds_open_invitation(case, actor) or permissions.is_superuser(actor)):
        raise PermissionDenied(_("Only an invited department may return the case."))


@transaction.atomic
def return_case(case: Case, *, actor, reason: str, department=None) -> Case:
    """A department sends the case back (退回): its invitations end, the caller re-dispatches.

    The department is the actor's own (the one of their open invitation);
    a superuser acting for a department names it. Its open invitations
    become ``returned``. When no department is left handling it, an
    in-progress case waits as dispatched again; the caller and commanders are
    told.
    """
    locked = _lock(case)
    check_may_return(locked, actor)
    open_states = [InvitationState.PENDING, InvitationState.ACCEPTED]
    if permissions.holds_open_invitation(locked, actor):
        departments = set(
            locked.invitations.filter(person=actor, state__in=open_states).values_list(
                "department_id", flat=True
            )
        )
    elif department is not None:  # a superuser, by the guard
        departments = {department.pk}
    else:
        raise ValidationFailed(
            _("Choose the department that returns the case."),
            fields={"department": [_("This field is required.")]},
        )
    reason = _require_reason(reason)
    returned = list(
        locked.invitations.filter(
            department_id__in=departments, state__in=open_states
        ).select_related("department")
    )
    if not returned:
        raise InvalidTransition(_("This department has no open invitation on the case."))
    now = timezone.now()
    for invitation in returned:
        invitation.state, invitation.reason, invitation.responded_at = (
            InvitationState.RETURNED,
            reason,
            now,
        )
    Invitation.objects.bulk_update(returned, ["state", "reason", "responded_at"])
    # bulk_update sends no signal, and the case is saved below only when no acceptance is
    # left: the daily figures (each department's returned invitations) must hear of it.
    from analytics.facts import day_of, mark_stale

    mark_stale([day_of(locked.created_at)])
    from_state = locked.state
    if (
        locked.state == CaseState.IN_PROGRESS
        and not locked.invitations.filter(state=InvitationState.ACCEPTED).exists()
    ):
        locked.hand_back()
        locked.save()
    record_event(
        locked,
        EventKind.RETURNED,
        actor=actor,
        note=reason,
        from_state=from_state if from_state != locked.state else "",
        to_state=locked.state if from_state != locked.state else "",
        data={"department": "、".join(sorted({i.department.name for i in returned}))},
    )
    _sync(case, locked)
    return case


def check_may_redispatch(case: Case, actor) -> None:
    """``redispatch_case``'s guard: dispatched and waiting, the caller or a commander."""
    if case.state != CaseState.DISPATCHED:
        raise InvalidTransition(
            _(
                "Only a dispatched case waiting for a department can be dispatched again: %(number)s is %(state)s."
            )
            % {"number": case.number, "state": state_label(case.state)}
        )
    if not permissions.can_steer(case, actor):
        raise PermissionDenied(_("You may not dispatch case %(number)s.") % {"number": case.number})


@transaction.atomic
def redispatch_case(
    case: Case, *, actor, invitees: Sequence[tuple[Any, Any]], note: str = ""
) -> Case:
    """The caller (or commander) invites others to a returned case and restarts the response clock."""
    from cases.deadlines import due_after

    locked = _lock(case)
    check_may_redispatch(locked, actor)
    if not invitees:
        raise ValidationFailed(
            _("Invite at least one person."), fields={"invitees": [_("This field is required.")]}
        )
    for department, person in invitees:
        invite_person(locked, actor=actor, department=department, person=person)
    now = timezone.now()
    locked.response_deadline = due_after(now, locked.response_limit())
    locked.save(update_fields=["response_deadline", "updated_at"])
    record_event(
        locked,
        EventKind.REDISPATCHED,
        actor=actor,
        note=note,
        data={"response_deadline": locked.response_deadline.isoformat()},
    )
    _sync(case, locked)
    return case


def _copy(target, source, *names: str) -> None:
    if target is not source:
        for name in names:
            setattr(target, name, getattr(source, name))


# ------------------------------------------------------------- the deadline sweep


@dataclass
class SweepReport:
    """How many steps one sweep took, by kind."""

    taken: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str) -> None:
        self.taken[kind] = self.taken.get(kind, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.taken.values())


def _step_rules(now) -> list[tuple[str, Q, str, str, timedelta]]:
    """(step kind, cases it may apply to, the deadline field it is keyed on, event kind,
    grace after the deadline).

    A step is due once ``escalates_at(deadline, grace) <= now``: the grace counts
    working time when the calendar is on, like the deadline itself
    (``cases.deadlines``). The condition is the database's first cut
    (``deadline <= now``, true of every due step since a grace is never negative).
    """
    from django.conf import settings

    response_grace = timedelta(minutes=settings.JINSHAO_RESPONSE_ESCALATE_MINUTES)
    overdue_grace = timedelta(hours=settings.JINSHAO_OVERDUE_ESCALATE_HOURS)
    waiting = Q(state=CaseState.DISPATCHED, response_deadline__lte=now)
    live = Q(state__in=SUPERVISED_STATES, deadline__lte=now)
    return [
        (StepKind.RESPONSE_REMINDER, waiting, "response_deadline", EventKind.REMINDED, ZERO),
        (
            StepKind.RESPONSE_ESCALATION,
            waiting,
            "response_deadline",
            EventKind.ESCALATED,
            response_grace,
        ),
        (StepKind.OVERDUE, live, "deadline", EventKind.OVERDUE, ZERO),
        (StepKind.OVERDUE_ESCALATION, live, "deadline", EventKind.ESCALATED, overdue_grace),
    ]


def _is_due(deadline, grace: timedelta, now) -> bool:
    from cases.deadlines import escalates_at

    return (
        deadline is not None and (deadline if not grace else escalates_at(deadline, grace)) <= now
    )


def sweep_deadlines(*, now=None, limit: int = 500) -> SweepReport:
    """Remind, mark overdue and escalate every case whose time is up, each step once.

    Safe to run often and concurrently (Celery beat, the in-process scheduler,
    ``manage.py supervise``): a step already taken for a deadline is skipped.
    ``limit``: at most this many steps of each kind per sweep (the next sweep
    takes the rest).
    """
    now = now or timezone.now()
    report = SweepReport()
    for step, condition, deadline_field, event_kind, grace in _step_rules(now):
        taken = SupervisionStep.objects.filter(
            case=OuterRef("pk"), kind=step, due_at=OuterRef(deadline_field)
        )
        candidates = (
            Case.objects.filter(condition)
            .filter(~Exists(taken))
            .order_by(deadline_field)
            .values_list("pk", deadline_field)
        )
        if not grace:
            candidates = candidates[:limit]
        due: list[int] = []
        for pk, deadline in candidates.iterator():
            if len(due) >= limit:
                break
            if _is_due(deadline, grace, now):
                due.append(pk)
        for case_id in due:
            if _take_step(case_id, step, condition, deadline_field, event_kind, grace, now=now):
                report.add(step)
    for order_id in list(
        SupervisionOrder.objects.filter(state=OrderState.OPEN, due_at__lte=now)
        .filter(
            ~Exists(
                SupervisionStep.objects.filter(
                    case=OuterRef("case"), kind=StepKind.ORDER_OVERDUE, due_at=OuterRef("due_at")
                )
            )
        )
        .values_list("pk", flat=True)[:limit]
    ):
        if _remind_order(order_id, now=now):
            report.add(StepKind.ORDER_OVERDUE)
    return report


@transaction.atomic
def _take_step(
    case_id: int,
    step: str,
    condition: Q,
    deadline_field: str,
    event_kind: str,
    grace: timedelta,
    *,
    now,
) -> bool:
    case = Case.objects.select_for_update(of=("self",)).select_related("community").get(pk=case_id)
    due_at = getattr(case, deadline_field)
    if not _is_due(due_at, grace, now) or not Case.objects.filter(condition, pk=case_id).exists():
        return False  # moved on since the sweep looked
    return _step_once(case, step, due_at, event_kind, now=now)


@transaction.atomic
def _remind_order(order_id: int, *, now) -> bool:
    case_id = SupervisionOrder.objects.filter(pk=order_id).values_list("case_id", flat=True).get()
    case = Case.objects.select_for_update(of=("self",)).get(pk=case_id)  # the case first
    order = SupervisionOrder.objects.select_for_update(of=("self",)).get(pk=order_id)
    order.case = case
    if order.state != OrderState.OPEN:
        return False
    return _step_once(
        order.case,
        StepKind.ORDER_OVERDUE,
        order.due_at,
        EventKind.REMINDED,
        now=now,
        note=order.instruction,
        data={"order": order.pk},
    )


def _step_once(
    case: Case, step: str, due_at, event_kind: str, *, now, note: str = "", data=None
) -> bool:
    """Record the step and its event, unless a step of this kind already has this deadline."""
    try:
        with transaction.atomic():
            record = SupervisionStep.objects.create(
                case=case, kind=step, due_at=due_at, taken_at=now
            )
    except IntegrityError:
        return False  # another sweep took it first
    record.event = record_event(
        case,
        event_kind,
        actor=None,
        note=note,
        data={"step": step, **(data or {}), "due_at": due_at.isoformat()},
    )
    record.save(update_fields=["event"])
    return True
