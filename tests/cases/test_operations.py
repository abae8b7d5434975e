"""The one table of case operations (``cases.operations``) against the services themselves.

For every role of the shared world × every state a case can be in (with an open
supervision order and a pending extension request where a live case can have
them), each operation listed as available is accepted by its service with
valid input, and each one not listed is refused with ``InvalidTransition`` or
``PermissionDenied``: the phone (``available_actions``) and the back office's
buttons show exactly what the server accepts.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from cases import operations, services
from cases.models import Case
from core.errors import InvalidTransition, PermissionDenied
from tests.api.client import as_user

pytestmark = pytest.mark.django_db

STATES = (
    "draft",
    "pending_review",
    "dispatched",
    "in_progress",
    "in_progress_supervised",  # with an open order and a pending extension request
    "pending_rating",
    "closed",
    "cancelled",
)
PEOPLE = (
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
    "stranger",
    "superuser",
)


class _Undo(Exception):
    """Raised to roll one attempt back."""


def _any_target(name: str, case: Case):
    """Something for an operation not listed to be tried on (to see the refusal)."""
    if name in ("accept", "decline", "withdraw"):
        return case.invitations.order_by("pk").first()
    if name == "answer_order":
        return case.supervision_orders.order_by("pk").first()
    if name == "decide_extension":
        return case.extension_requests.order_by("pk").first()
    return case


def _attempt(world, name: str, person, case: Case, target) -> None:
    """Call the operation's service with valid input (raises its refusal)."""
    soon = timezone.now() + timedelta(days=1)
    later = max(soon, (case.deadline or soon) + timedelta(days=1))
    service = operations.BY_NAME[name].service_function()
    kwargs: dict = {
        "submit": {"note": ""},
        "approve": {"note": ""},
        "complete": {"note": ""},
        "send_back": {"reason": "请补充"},
        "cancel": {"reason": "重复上报"},
        "reopen": {"reason": "未办好"},
        "edit_draft": {"title": "新标题"},
        "invite": {"department": world.dept_a, "person": world.staff_a2},
        "redispatch": {"invitees": [(world.dept_a, world.staff_a2)]},
        "accept": {},
        "decline": {"reason": "不归我管"},
        "withdraw": {"reason": "另派"},
        "return": {"reason": "非本部门职责", "department": world.dept_a},
        "supervise": {"instruction": "今日办结", "due_at": soon},
        "answer_order": {"answer": "已处理"},
        "ask_extension": {"reason": "需要更多时间", "until": later},
        "decide_extension": {"approve": True},
        "rate": {},
    }[name]
    if name == "rate":
        department = case.participating_departments().first() or world.dept_a
        kwargs = {"department": department, "scores": {"result": 90, "conduct": 80}}
    service(target, actor=person, **kwargs)


def _prepared(world, case_in, state: str) -> Case:
    case = case_in(state.removesuffix("_supervised"))
    if state == "in_progress_supervised":
        services.issue_supervision_order(
            case, actor=world.leader, instruction="抓紧", due_at=timezone.now() + timedelta(hours=2)
        )
        services.request_extension(
            case,
            actor=world.staff_a,
            reason="材料未到",
            until=case.deadline + timedelta(days=2),
        )
    return case


@pytest.mark.parametrize("state", STATES)
def test_listed_operations_are_accepted_and_others_refused(world, case_in, state):
    case = _prepared(world, case_in, state)
    mismatches = []
    listed_somewhere = set()
    for who in PEOPLE:
        person = getattr(world, who)
        for op in operations.OPERATIONS:
            fresh = Case.objects.get(pk=case.pk)
            listed = op.applies(person, fresh)
            target = op.target(fresh, person) if listed else _any_target(op.name, fresh)
            if target is None:
                continue  # nothing of the kind on this case: nothing to post to
            outcome = "accepted"
            try:
                with transaction.atomic():
                    _attempt(world, op.name, person, fresh, target)
                    raise _Undo
            except _Undo:
                pass
            except (InvalidTransition, PermissionDenied):
                outcome = "refused"
            except Exception as error:  # noqa: BLE001  (reported below)
                outcome = f"{type(error).__name__}: {error}"
            if listed:
                listed_somewhere.add(op.name)
            if (outcome == "accepted") != listed:
                mismatches.append((who, op.name, "listed" if listed else "not listed", outcome))
    assert not mismatches, mismatches
    assert bool(listed_somewhere) == (state not in ("closed", "cancelled")), listed_somewhere


def test_the_matrix_covers_every_operation(world, case_in):
    """Each operation is offered to somebody in some state of the matrix (no dead rows)."""
    offered = set()
    for state in STATES:
        case = _prepared(world, case_in, state)
        for who in PEOPLE:
            offered |= set(operations.available_operations(getattr(world, who), case))
    assert offered == set(operations.BY_NAME)


def test_the_api_lists_the_table_and_keeps_the_transitions(world, case_in):
    """``available_actions`` on the case is the table's answer for the asker; the older
    ``allowed_transitions`` stays, the state-machine subset of it. (An extension request
    already waits: nobody is offered to ask for another.)"""
    case = _prepared(world, case_in, "in_progress_supervised")
    for who in ("official", "commander", "staff_a", "leader", "stranger"):
        person = getattr(world, who)
        response = as_user(person).get(f"/api/v1/cases/{case.pk}/")
        if who == "stranger":
            assert response.status_code == 404
            continue
        data = response.data
        assert data["available_actions"] == operations.available_operations(person, case)
        assert set(data["allowed_transitions"]) <= set(data["available_actions"])
    case = Case.objects.get(pk=case.pk)
    assert (
        "complete"
        in as_user(world.official).get(f"/api/v1/cases/{case.pk}/").data["available_actions"]
    )
    assert {"return", "answer_order"} <= set(
        as_user(world.staff_a).get(f"/api/v1/cases/{case.pk}/").data["available_actions"]
    )
