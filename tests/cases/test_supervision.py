"""Deadlines that chase themselves, and the people who chase cases: the sweep with a
frozen clock (reminders, escalation, overdue, each exactly once), supervision
orders, extensions and returns with their permissions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.choices import CaseState, EventKind, InvitationState, StepKind
from cases.models import Case, SupervisionStep
from chat.models import Message
from core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def told(case, kind) -> set[str]:
    return set(
        Notification.objects.filter(case=case, kind=kind).values_list(
            "recipient__username", flat=True
        )
    )


def steps(case) -> list[str]:
    return sorted(SupervisionStep.objects.filter(case=case).values_list("kind", flat=True))


class TestSweep:
    def test_nobody_accepting_is_reminded_then_escalated_once_each(self, world, case_in):
        case = case_in("dispatched")
        due = case.response_deadline
        assert due == case.dispatched_at + timedelta(minutes=30)

        assert services.sweep_deadlines(now=due - timedelta(seconds=1)).total == 0
        report = services.sweep_deadlines(now=due + timedelta(minutes=1))
        assert report.taken == {StepKind.RESPONSE_REMINDER: 1}
        assert told(case, "reminded") == {"staff_a", "staff_b"}
        # The same minute again, and a second sweep overlapping it: nothing more.
        assert services.sweep_deadlines(now=due + timedelta(minutes=1)).total == 0
        assert services.sweep_deadlines(now=due + timedelta(minutes=2)).total == 0

        report = services.sweep_deadlines(now=due + timedelta(minutes=31))
        assert report.taken == {StepKind.RESPONSE_ESCALATION: 1}
        assert told(case, "escalated") == {"grid_leader", "commander"}
        assert services.sweep_deadlines(now=due + timedelta(hours=5)).total == 0
        kinds = list(case.events.values_list("kind", flat=True))
        assert kinds.count(EventKind.REMINDED) == 1 and kinds.count(EventKind.ESCALATED) == 1
        # Each step is also a line in the case's room.
        assert Message.objects.filter(case=case, event__kind=EventKind.REMINDED).count() == 1

    def test_an_accepted_case_is_not_chased_for_response(self, world, case_in):
        case = case_in("in_progress")
        waiting = case_in("dispatched")  # the same sweep does chase a case nobody accepted
        Case.objects.filter(pk=waiting.pk).update(response_deadline=case.response_deadline)
        later = case.response_deadline + timedelta(hours=2)
        assert later < case.deadline  # the handling deadline is not what is swept here
        report = services.sweep_deadlines(now=later)
        assert report.taken == {StepKind.RESPONSE_REMINDER: 1, StepKind.RESPONSE_ESCALATION: 1}
        assert steps(waiting) == [StepKind.RESPONSE_ESCALATION, StepKind.RESPONSE_REMINDER]
        assert steps(case) == []

    def test_past_the_handling_deadline_is_marked_overdue_then_escalated(self, world, case_in):
        case = case_in("in_progress")
        report = services.sweep_deadlines(now=case.deadline + timedelta(minutes=1))
        assert report.taken == {StepKind.OVERDUE: 1}
        assert told(case, "overdue") == {"staff_a", "staff_b", "official", "commander"}
        assert Case.objects.overdue(now=case.deadline + timedelta(minutes=1)).filter(pk=case.pk)
        assert services.sweep_deadlines(now=case.deadline + timedelta(hours=2)).total == 0
        report = services.sweep_deadlines(now=case.deadline + timedelta(hours=24, minutes=1))
        assert report.taken == {StepKind.OVERDUE_ESCALATION: 1}
        assert steps(case) == [StepKind.OVERDUE, StepKind.OVERDUE_ESCALATION]

    def test_finished_cases_are_left_alone(self, world, case_in):
        case = case_in("pending_rating")
        live = case_in("in_progress")  # the same sweep does chase an unfinished case
        Case.objects.filter(pk=live.pk).update(deadline=case.deadline)
        report = services.sweep_deadlines(now=case.deadline + timedelta(days=30))
        assert report.taken == {StepKind.OVERDUE: 1, StepKind.OVERDUE_ESCALATION: 1}
        assert steps(live) == [StepKind.OVERDUE, StepKind.OVERDUE_ESCALATION]
        assert steps(case) == []

    def test_an_approved_extension_starts_a_new_round(self, world, case_in):
        case = case_in("in_progress")
        services.sweep_deadlines(now=case.deadline + timedelta(minutes=1))
        request = services.request_extension(
            case,
            actor=world.staff_a,
            reason="需协调第三方",
            until=case.deadline + timedelta(days=3),
        )
        services.decide_extension(request, actor=world.commander, approve=True)
        case.refresh_from_db()
        assert case.deadline == request.requested_deadline
        assert services.sweep_deadlines(now=case.deadline - timedelta(minutes=1)).total == 0
        report = services.sweep_deadlines(now=case.deadline + timedelta(minutes=1))
        assert report.taken == {StepKind.OVERDUE: 1}
        assert SupervisionStep.objects.filter(case=case, kind=StepKind.OVERDUE).count() == 2


class TestSupervisionOrders:
    def test_a_leader_orders_and_a_handler_answers(self, world, case_in):
        case = case_in("in_progress")
        due = timezone.now() + timedelta(hours=4)
        order = services.issue_supervision_order(
            case, actor=world.leader, instruction="今日内清理完毕", due_at=due
        )
        assert told(case, "supervised") == {"staff_a", "staff_b", "commander"}
        services.answer_supervision_order(order, actor=world.staff_a, answer="已清理，附照片")
        order.refresh_from_db()
        assert order.state == "answered" and order.answered_by == world.staff_a
        assert told(case, "supervision_answered") == {"leader"}
        with pytest.raises(InvalidTransition):
            services.answer_supervision_order(order, actor=world.staff_b, answer="再答一次")

    @pytest.mark.parametrize("who", ["official", "staff_a", "commander", "stranger"])
    def test_only_leaders_and_grid_leaders_issue_orders(self, world, case_in, who):
        case = case_in("in_progress")
        with pytest.raises(PermissionDenied):
            services.issue_supervision_order(
                case,
                actor=getattr(world, who),
                instruction="尽快处理",
                due_at=timezone.now() + timedelta(hours=1),
            )
        assert not case.supervision_orders.exists()

    def test_an_order_due_in_the_past_is_refused(self, world, case_in):
        case = case_in("in_progress")
        with pytest.raises(ValidationFailed):
            services.issue_supervision_order(
                case,
                actor=world.grid_leader,
                instruction="尽快处理",
                due_at=timezone.now() - timedelta(hours=1),
            )

    def test_an_unanswered_order_is_chased_once(self, world, case_in):
        case = case_in("in_progress")
        order = services.issue_supervision_order(
            case,
            actor=world.grid_leader,
            instruction="尽快处理",
            due_at=timezone.now() + timedelta(hours=1),
        )
        report = services.sweep_deadlines(now=order.due_at + timedelta(minutes=1))
        assert report.taken == {StepKind.ORDER_OVERDUE: 1}
        assert services.sweep_deadlines(now=order.due_at + timedelta(minutes=5)).total == 0


class TestExtensions:
    def test_refusal_needs_a_reason_and_keeps_the_deadline(self, world, case_in):
        case = case_in("in_progress")
        before = case.deadline
        request = services.request_extension(
            case, actor=world.staff_a, reason="材料未齐", until=before + timedelta(days=1)
        )
        assert told(case, "extension_requested") == {"commander"}
        with pytest.raises(ValidationFailed):
            services.decide_extension(request, actor=world.commander, approve=False)
        services.decide_extension(request, actor=world.commander, approve=False, note="不予延期")
        case.refresh_from_db()
        assert case.deadline == before
        assert told(case, "extension_decided") == {"staff_a"}

    def test_one_pending_request_at_a_time(self, world, case_in):
        case = case_in("in_progress")
        until = case.deadline + timedelta(days=1)
        services.request_extension(case, actor=world.staff_a, reason="材料未齐", until=until)
        with pytest.raises(InvalidTransition):
            services.request_extension(case, actor=world.staff_b, reason="再申请", until=until)

    @pytest.mark.parametrize("who", ["official", "stranger", "staff_a2", "leader"])
    def test_only_handlers_ask(self, world, case_in, who):
        case = case_in("in_progress")
        with pytest.raises(PermissionDenied):
            services.request_extension(
                case,
                actor=getattr(world, who),
                reason="x",
                until=case.deadline + timedelta(days=1),
            )

    def test_only_the_commander_decides(self, world, case_in):
        case = case_in("in_progress")
        request = services.request_extension(
            case, actor=world.staff_a, reason="材料未齐", until=case.deadline + timedelta(days=1)
        )
        for who in ("official", "staff_b", "leader"):
            with pytest.raises(PermissionDenied):
                services.decide_extension(request, actor=getattr(world, who), approve=True)
        request.refresh_from_db()
        assert request.state == "pending"

    def test_the_new_deadline_must_be_later(self, world, case_in):
        case = case_in("in_progress")
        with pytest.raises(ValidationFailed):
            services.request_extension(
                case, actor=world.staff_a, reason="x", until=case.deadline - timedelta(hours=1)
            )


class TestReturns:
    def test_every_department_returning_sends_the_case_back_to_waiting(self, world, case_in):
        case = case_in("in_progress")
        services.return_case(case, actor=world.staff_a, reason="不属于本部门职责")
        assert case.state == CaseState.IN_PROGRESS  # 水务局 still handles it
        assert told(case, "returned") == {"official", "commander"}
        services.return_case(case, actor=world.staff_b, reason="不属于本部门职责")
        assert case.state == CaseState.DISPATCHED
        assert set(case.invitations.values_list("state", flat=True)) == {InvitationState.RETURNED}

        # The caller dispatches it again; the response clock restarts.
        before = case.response_deadline
        services.redispatch_case(
            case, actor=world.official, invitees=[(world.dept_a, world.staff_a2)], note="改派"
        )
        assert case.response_deadline > before
        assert told(case, "invited") >= {"staff_a2"}
        services.accept_invitation(
            case.invitations.get(person=world.staff_a2), actor=world.staff_a2
        )
        case.refresh_from_db()
        assert case.state == CaseState.IN_PROGRESS

    def test_a_returned_case_is_chased_from_its_new_response_deadline(
        self, world, case_in, settings
    ):
        case = case_in("in_progress")
        # Raised three days ago: its first response deadline is long past.
        first = timezone.now() - timedelta(days=3)
        Case.objects.filter(pk=case.pk).update(response_deadline=first)
        case.refresh_from_db()
        for person in (world.staff_a, world.staff_b):
            services.return_case(case, actor=person, reason="不属于本部门职责")
        assert case.state == CaseState.DISPATCHED
        services.redispatch_case(
            case, actor=world.commander, invitees=[(world.dept_a, world.staff_a2)]
        )
        case.refresh_from_db()
        new = case.response_deadline
        assert new > timezone.now() > first
        # Not chased on the old deadline, nor before the new one.
        assert services.sweep_deadlines(now=new - timedelta(minutes=1)).taken == {}
        report = services.sweep_deadlines(now=new + timedelta(minutes=1))
        assert report.taken == {StepKind.RESPONSE_REMINDER: 1}
        assert services.sweep_deadlines(now=new + timedelta(minutes=2)).taken == {}  # once
        grace = timedelta(minutes=settings.JINSHAO_RESPONSE_ESCALATE_MINUTES)
        late = services.sweep_deadlines(now=new + grace + timedelta(minutes=1))
        assert late.taken == {StepKind.RESPONSE_ESCALATION: 1}

    @pytest.mark.parametrize("who", ["official", "commander", "staff_a2", "stranger"])
    def test_only_invited_people_return(self, world, case_in, who):
        case = case_in("in_progress")
        with pytest.raises(PermissionDenied):
            services.return_case(case, actor=getattr(world, who), reason="x")
        assert not case.invitations.filter(state=InvitationState.RETURNED).exists()

    def test_a_return_needs_a_reason(self, world, case_in):
        case = case_in("in_progress")
        with pytest.raises(ValidationFailed):
            services.return_case(case, actor=world.staff_a, reason="  ")

    def test_redispatch_only_while_waiting(self, world, case_in):
        case = case_in("in_progress")
        with pytest.raises(InvalidTransition):
            services.redispatch_case(
                case, actor=world.official, invitees=[(world.dept_a, world.staff_a2)]
            )
