"""Random sequences of case actions by random people (Hypothesis, stateful).

Whatever happens: the state is always one of the machine's states; a refused
action changes nothing (state, timeline, invitations, ratings, audit log);
an accepted one adds timeline lines and exactly one audit record per line.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from audit.models import AuditRecord
from cases import services
from cases.choices import CaseState, InvitationState
from cases.models import Case, CaseEvent, Invitation
from core.errors import DomainError
from ratings.models import Rating
from ratings.services import rate_department

pytestmark = pytest.mark.django_db

#: States the sequences reached (the test checks it saw every one).
SEEN: set[str] = set()
ACTIONS = [
    "submit",
    "approve",
    "send_back",
    "cancel",
    "complete",
    "reopen",
    "accept",
    "decline",
    "rate",
    "invite",
    "return",
    "redispatch",
    "supervise",
    "extend",
]
PEOPLE = [
    "official",
    "other_official",
    "commander",
    "leader",
    "grid_leader",
    "staff_a",
    "staff_a2",
    "staff_b",
    "head_a",
    "auditor",
    "stranger",
]
#: Half the steps are someone who may well do it, so sequences reach the later states.
LIKELY = [
    ("submit", "official"),
    ("approve", "commander"),
    ("accept", "staff_a"),
    ("accept", "staff_b"),
    ("complete", "official"),
    ("rate", "official"),
    ("rate", "official"),
    ("send_back", "commander"),
    ("reopen", "official"),
    ("decline", "staff_b"),
    ("invite", "commander"),
    ("cancel", "official"),
    ("return", "staff_b"),
    ("redispatch", "official"),
    ("supervise", "leader"),
    ("extend", "staff_a"),
]
STEPS = st.one_of(
    st.sampled_from(LIKELY), st.tuples(st.sampled_from(ACTIONS), st.sampled_from(PEOPLE))
)


def snapshot(case) -> tuple:
    return (
        Case.objects.get(pk=case.pk).state,
        CaseEvent.objects.filter(case=case).count(),
        tuple(Invitation.objects.filter(case=case).order_by("pk").values_list("state", flat=True)),
        Rating.objects.filter(case=case).count(),
        AuditRecord.objects.filter(object_id=str(case.pk), action__startswith="case.").count(),
    )


def attempt(world, case, action: str, who) -> None:
    if action in ("submit", "approve", "complete"):
        getattr(services, f"{action}_case")(case, actor=who)
    elif action in ("send_back", "cancel", "reopen"):
        getattr(services, f"{action}_case")(case, actor=who, reason="随机测试")
    elif action in ("accept", "decline"):
        invitation = Invitation.objects.filter(case=case, person=who).first()
        if invitation is None:
            invitation = Invitation.objects.filter(case=case).first()
        if action == "accept":
            services.accept_invitation(invitation, actor=who)
        else:
            services.decline_invitation(invitation, actor=who, reason="随机测试")
    elif action == "rate":
        rated = Rating.objects.filter(case=case).values("department_id")
        department = case.participating_departments().exclude(pk__in=rated).first() or world.dept_a
        rate_department(
            case, actor=who, department=department, scores={"result": 90, "conduct": 80}
        )
    elif action == "invite":
        services.invite_person(case, actor=who, department=world.dept_a, person=world.staff_a2)
    elif action == "return":
        services.return_case(case, actor=who, reason="随机测试")
    elif action == "redispatch":
        services.redispatch_case(case, actor=who, invitees=[(world.dept_b, world.staff_b)])
    elif action == "supervise":
        due = timezone.now() + timedelta(hours=1)
        services.issue_supervision_order(case, actor=who, instruction="随机督办", due_at=due)
    elif action == "extend":
        until = (case.deadline or timezone.now()) + timedelta(days=1)
        services.request_extension(case, actor=who, reason="随机测试", until=until)


def test_random_actions_keep_the_case_legal(world):
    SEEN.clear()

    class CaseMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.case = services.create_case(
                actor=world.official,
                community=world.community,
                title="随机案件",
                template=world.template,
                invitees=[(world.dept_a, world.staff_a), (world.dept_b, world.staff_b)],
            )

        @rule(step=STEPS)
        def act(self, step):
            action, person = step
            who = getattr(world, person)
            self.case.refresh_from_db()
            before = snapshot(self.case)
            try:
                attempt(world, self.case, action, who)
            except DomainError:
                assert snapshot(self.case) == before, (action, person)  # nothing half-done
                return
            after = snapshot(self.case)
            new_events, new_audits = after[1] - before[1], after[4] - before[4]
            assert new_events >= 1 and new_audits == new_events, (action, person)

        @rule()
        def advance(self):
            """The next step the right person would take, so every state gets visited."""
            self.case.refresh_from_db()
            step = {
                CaseState.DRAFT: ("submit", "official"),
                CaseState.PENDING_REVIEW: ("approve", "commander"),
                CaseState.DISPATCHED: ("accept", "staff_a"),
                CaseState.IN_PROGRESS: ("complete", "official"),
                CaseState.PENDING_RATING: ("rate", "official"),
            }.get(CaseState(self.case.state))
            if step is not None:
                self.act(step)

        @invariant()
        def state_is_legal(self):
            case = Case.objects.get(pk=self.case.pk)
            SEEN.add(case.state)
            assert case.state in CaseState.values
            if case.state == CaseState.IN_PROGRESS:  # someone is always handling it
                assert case.invitations.filter(state=InvitationState.ACCEPTED).exists()

    CaseMachine.TestCase.settings = settings(
        max_examples=40,
        stateful_step_count=50,
        deadline=None,
        derandomize=True,  # the same sequences on every run: a failure reproduces
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(CaseMachine, settings=CaseMachine.TestCase.settings)
    assert set(CaseState.values) == SEEN  # the sequences went everywhere
