"""The case state machine: every transition allowed and refused, per role and per state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import translation

from cases import services
from cases.choices import CaseState, EventKind, InvitationState
from cases.models import Case, CaseEvent
from cases.signals import case_event_recorded
from core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

REASONED = {"send_back", "cancel", "reopen"}
SERVICES = {
    "submit": services.submit_case,
    "approve": services.approve_case,
    "send_back": services.send_back_case,
    "cancel": services.cancel_case,
    "complete": services.complete_case,
    "reopen": services.reopen_case,
}
#: transition → (source states, target, event kind, roles allowed)
RULES = {
    "submit": (
        [CaseState.DRAFT],
        CaseState.PENDING_REVIEW,
        EventKind.SUBMITTED,
        {"official", "commander", "superuser"},
    ),
    "approve": (
        [CaseState.PENDING_REVIEW],
        CaseState.DISPATCHED,
        EventKind.APPROVED,
        {"commander", "superuser"},
    ),
    "send_back": (
        [CaseState.PENDING_REVIEW],
        CaseState.DRAFT,
        EventKind.SENT_BACK,
        {"commander", "superuser"},
    ),
    "cancel": (
        [CaseState.DRAFT, CaseState.PENDING_REVIEW, CaseState.DISPATCHED],
        CaseState.CANCELLED,
        EventKind.CANCELLED,
        {"official", "commander", "superuser"},
    ),
    "complete": (
        [CaseState.IN_PROGRESS],
        CaseState.PENDING_RATING,
        EventKind.COMPLETED,
        {"official", "commander", "superuser"},
    ),
    "reopen": (
        [CaseState.PENDING_RATING],
        CaseState.IN_PROGRESS,
        EventKind.REOPENED,
        {"official", "commander", "superuser"},
    ),
}
ROLES = [
    "official",
    "other_official",
    "commander",
    "grid_leader",
    "leader",
    "staff_a",
    "staff_a2",
    "staff_b",
    "head_a",
    "auditor",
    "sysadmin",
    "stranger",
    "superuser",
]


def run(name, case, actor):
    kwargs = {"reason": "理由"} if name in REASONED else {}
    return SERVICES[name](case, actor=actor, **kwargs)


def frozen(case):
    """Everything a refused transition must leave as it was."""
    case = Case.objects.get(pk=case.pk)
    return (
        case.state,
        case.submitted_at,
        case.dispatched_at,
        case.first_accepted_at,
        case.completed_at,
        case.closed_at,
        case.cancelled_at,
        case.deadline,
        CaseEvent.objects.filter(case=case).count(),
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(RULES))
def test_transition_per_role(world, case_in, name, role):
    sources, target, kind, allowed = RULES[name]
    for source in sources:
        case = case_in(source)
        actor = getattr(world, role)
        before = frozen(case)
        if role in allowed:
            run(name, case, actor)
            case.refresh_from_db()
            assert case.state == target
            event = case.events.order_by("-id").first()
            assert (event.kind, event.actor, event.from_state, event.to_state) == (
                kind,
                actor,
                source,
                target,
            )
            assert case.events.count() == before[-1] + 1
        else:
            with pytest.raises(PermissionDenied):
                run(name, case, actor)
            assert frozen(case) == before


@pytest.mark.parametrize("name", list(RULES))
def test_transition_from_every_wrong_state_is_refused_naming_the_state(world, case_in, name):
    sources = RULES[name][0]
    for state in CaseState:
        if state in sources:
            continue
        case = case_in(state)
        before = frozen(case)
        for language in ("zh-hans", "en"):
            with translation.override(language), pytest.raises(InvalidTransition) as refused:
                run(name, case, world.superuser)
            with translation.override(language):
                label = str(state.label)
            assert label in str(refused.value) and case.number in str(refused.value)
        assert frozen(case) == before


def test_reasons_are_required(world, case_in):
    for name, state in (
        ("send_back", "pending_review"),
        ("cancel", "draft"),
        ("reopen", "pending_rating"),
    ):
        case = case_in(state)
        before = frozen(case)
        with pytest.raises(ValidationFailed) as refused:
            SERVICES[name](case, actor=world.superuser, reason="  ")
        assert "reason" in refused.value.fields
        assert frozen(case) == before


def test_milestone_times_and_deadlines(world, case_in, settings):
    case = case_in("draft")
    services.submit_case(case, actor=world.official)
    assert case.submitted_at is not None
    services.approve_case(case, actor=world.commander)
    assert case.response_deadline - case.dispatched_at == timedelta(minutes=30)
    assert case.deadline - case.dispatched_at == timedelta(
        hours=settings.JINSHAO_HANDLING_LIMIT_HOURS["normal"]
    )
    first, second = case.invitations.all()
    services.accept_invitation(first, actor=first.person)
    case.refresh_from_db()
    accepted_at = case.first_accepted_at
    assert accepted_at and case.state == CaseState.IN_PROGRESS
    services.accept_invitation(second, actor=second.person)
    case.refresh_from_db()
    assert case.first_accepted_at == accepted_at  # only the first acceptance counts
    services.complete_case(case, actor=world.official)
    assert case.completed_at
    services.reopen_case(case, actor=world.official, reason="问题反弹")
    assert case.completed_at is None and case.state == CaseState.IN_PROGRESS
    services.complete_case(case, actor=world.official)
    assert case.completed_at


def test_template_limit_sets_the_deadline(world, case_in):
    world.template.handling_limit_hours = 6
    world.template.save()
    case = case_in("dispatched")
    assert case.deadline - case.dispatched_at == timedelta(hours=6)


def test_send_back_clears_submission_and_cancel_stamps_time(world, case_in):
    case = case_in("pending_review")
    services.send_back_case(case, actor=world.commander, reason="请补充照片")
    assert case.state == CaseState.DRAFT and case.submitted_at is None
    services.cancel_case(case, actor=world.official, reason="重复上报")
    assert case.state == CaseState.CANCELLED and case.cancelled_at


def test_approve_needs_someone_invited(world, case_in):
    case = case_in("pending_review", invite=())
    with pytest.raises(InvalidTransition):
        services.approve_case(case, actor=world.commander)


def test_stale_copy_is_a_conflict(world, case_in):
    case = case_in("pending_review")
    stale = Case.objects.get(pk=case.pk)
    services.approve_case(case, actor=world.commander)
    with pytest.raises(Conflict):
        services.approve_case(stale, actor=world.superuser)
    assert CaseEvent.objects.filter(case=case, kind=EventKind.APPROVED).count() == 1


# --------------------------------------------------------------- invitations


def test_only_active_members_can_be_invited_and_only_once(world, case_in):
    case = case_in("draft", invite=())
    with pytest.raises(ValidationFailed):  # staff_b is not in dept_a
        services.invite_person(
            case, actor=world.official, department=world.dept_a, person=world.staff_b
        )
    services.invite_person(
        case, actor=world.official, department=world.dept_a, person=world.staff_a
    )
    with pytest.raises(ValidationFailed):
        services.invite_person(
            case, actor=world.official, department=world.dept_a, person=world.staff_a
        )
    inactive = MembershipFactory(department=world.dept_a, is_active=False).user
    with pytest.raises(ValidationFailed):
        services.invite_person(case, actor=world.official, department=world.dept_a, person=inactive)
    assert case.invitations.count() == 1


def test_strangers_cannot_invite_and_closed_cases_take_nobody(world, case_in):
    case = case_in("draft", invite=())
    with pytest.raises(PermissionDenied):
        services.invite_person(
            case, actor=world.stranger, department=world.dept_a, person=world.staff_a
        )
    closed = case_in("closed")
    with pytest.raises(InvalidTransition):
        services.invite_person(
            closed, actor=world.superuser, department=world.dept_a, person=world.staff_a2
        )


def test_accept_and_decline_only_by_the_invited_person(world, case_in):
    case = case_in("dispatched")
    invitation = case.invitations.get(person=world.staff_a)
    for intruder in (world.staff_a2, world.official, world.commander, world.head_a):
        with pytest.raises(PermissionDenied):
            services.accept_invitation(invitation, actor=intruder)
    with pytest.raises(ValidationFailed):
        services.decline_invitation(invitation, actor=world.staff_a, reason="")
    services.decline_invitation(invitation, actor=world.staff_a, reason="不属于本部门职责")
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.DECLINED and invitation.reason
    with pytest.raises(InvalidTransition):
        services.accept_invitation(invitation, actor=world.staff_a)
    # A declined person can be invited again.
    again = services.invite_person(
        case, actor=world.official, department=world.dept_a, person=world.staff_a
    )
    assert again.state == InvitationState.PENDING


def test_staff_cannot_answer_before_dispatch(world, case_in):
    case = case_in("pending_review")
    with pytest.raises(InvalidTransition):
        services.accept_invitation(case.invitations.first(), actor=case.invitations.first().person)


def test_every_invitation_declined_tells_the_caller(world, case_in):
    case = case_in("dispatched")
    for inv in case.invitations.all():
        services.decline_invitation(inv, actor=inv.person, reason="人员外出")
    event = case.events.get(kind=EventKind.ALL_DECLINED)
    assert event.data["notify"] == [world.official.pk]
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED


def test_accepting_writes_one_event_that_moves_the_case_once(world, case_in):
    case = case_in("dispatched")
    for inv in case.invitations.all():
        services.accept_invitation(inv, actor=inv.person)
    moves = case.events.filter(kind=EventKind.ACCEPTED).exclude(to_state="")
    assert moves.count() == 1 and moves.get().from_state == CaseState.DISPATCHED
    assert case.events.filter(kind=EventKind.ACCEPTED).count() == 2


# ----------------------------------------------------------------- raising


def test_only_officials_raise_cases_for_their_community(world):
    for actor in (world.other_official, world.staff_a, world.stranger, world.auditor):
        with pytest.raises(PermissionDenied):
            services.create_case(
                actor=actor, community=world.community, title="x", template=world.template
            )
    services.create_case(
        actor=world.commander,
        community=world.community,
        title="代报",
        template=world.template,
        caller=world.official,
    )
    assert Case.objects.get(title="代报").caller == world.official


def test_cases_are_raised_for_communities_only(world):
    with pytest.raises(ValidationFailed):
        services.create_case(
            actor=world.superuser, community=world.grid, title="x", template=world.template
        )


def test_defaults_from_the_template_and_submit_at_once(world):
    world.template.default_priority = "high"
    world.template.save()
    case = services.create_case(
        actor=world.official,
        community=world.community,
        title="占道",
        template=world.template,
        answers={"stall_count": "4"},
        submit=True,
    )
    assert case.state == CaseState.PENDING_REVIEW
    assert case.category == world.template.category and case.priority == "high"
    assert case.answers == {"stall_count": 4}


def test_bad_answers_refuse_the_case_and_save_nothing(world):
    with pytest.raises(ValidationFailed) as refused:
        services.create_case(
            actor=world.official,
            community=world.community,
            title="占道",
            template=world.template,
            answers={"stall_count": "许多", "goods": "家电", "colour": "红"},
        )
    assert set(refused.value.fields) == {"stall_count", "goods", "colour"}
    assert not Case.objects.exists()


def test_numbers_count_up_without_gaps(world):
    cases = [
        services.create_case(
            actor=world.official,
            community=world.community,
            title=f"案件{i}",
            template=world.template,
        )
        for i in range(3)
    ]
    numbers = [c.number for c in cases]
    year = cases[0].created_at.year
    assert numbers == [f"FX-{year}-00000{i}" for i in (1, 2, 3)]


def test_update_draft_records_old_and_new_values(world, case_in):
    case = case_in("draft")
    services.update_draft(case, actor=world.official, title="新标题", answers={"stall_count": 2})
    event = case.events.get(kind=EventKind.EDITED)
    assert event.data["changes"]["title"] == ["路口占道经营", "新标题"]
    assert event.data["changes"]["answers"] == [{}, {"stall_count": 2}]
    with pytest.raises(PermissionDenied):
        services.update_draft(case, actor=world.other_official, title="夺取")
    services.submit_case(case, actor=world.official)
    with pytest.raises(InvalidTransition):
        services.update_draft(case, actor=world.official, title="太迟")


# ------------------------------------------------------------------ events


def test_events_are_announced_after_commit_only(world, case_in, django_capture_on_commit_callbacks):
    case = case_in("draft")
    heard = []

    def listener(sender, case, event, **kwargs):
        heard.append(event.kind)

    case_event_recorded.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.submit_case(case, actor=world.official)
        assert heard == [EventKind.SUBMITTED]
        heard.clear()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            try:
                with transaction.atomic():
                    services.send_back_case(case, actor=world.commander, reason="退回")
                    raise RuntimeError("rolled back")
            except RuntimeError:
                pass
        assert heard == [] and callbacks == []
    finally:
        case_event_recorded.disconnect(listener)
    case.refresh_from_db()
    assert case.state == CaseState.PENDING_REVIEW


def test_an_inactive_user_can_do_nothing(world, case_in):
    case = case_in("pending_review")
    commander = world.commander
    commander.is_active = False
    commander.save()
    fresh = type(commander).objects.get(pk=commander.pk)
    with pytest.raises(PermissionDenied):
        services.approve_case(case, actor=fresh)


def test_a_user_with_no_role_gets_nothing(world, case_in):
    nobody = UserFactory(username="nobody")
    case = case_in("pending_review")
    with pytest.raises(PermissionDenied):
        services.approve_case(case, actor=nobody)
