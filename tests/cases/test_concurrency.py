"""Two people acting on one case at once, on PostgreSQL with real concurrent connections.

Each race runs in two threads (each with its own database connection) released
together by a barrier, several times over. Skipped on SQLite, which has no
concurrent writers; CI runs the suite on PostgreSQL too (see .ci/run).
"""

from __future__ import annotations

import threading
from functools import partial

import pytest

from accounts.choices import Role
from cases import services
from cases.choices import CaseState, EventKind, InvitationState
from cases.models import Case
from core.errors import Conflict
from ratings.services import rate_department
from tests.factories import UserFactory, grant

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]
ROUNDS = 5


def race(*calls):
    """Run the calls in threads released together; return each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def worker(i, call):
        from django.db import connections

        try:
            barrier.wait()
            outcomes[i] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what we assert on
            outcomes[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


def test_two_people_accepting_together_both_join_and_the_case_moves_once(world, case_in):
    for _ in range(ROUNDS):
        case = case_in("dispatched")
        first, second = case.invitations.all()
        outcomes = race(
            partial(services.accept_invitation, first, actor=first.person),
            partial(services.accept_invitation, second, actor=second.person),
        )
        assert not any(isinstance(o, Exception) for o in outcomes), outcomes
        case.refresh_from_db()
        assert case.state == CaseState.IN_PROGRESS and case.first_accepted_at
        assert set(case.invitations.values_list("state", flat=True)) == {InvitationState.ACCEPTED}
        moves = case.events.filter(kind=EventKind.ACCEPTED).exclude(to_state="")
        assert moves.count() == 1
        assert case.events.filter(kind=EventKind.ACCEPTED).count() == 2


def test_two_commanders_approving_together_one_wins_one_gets_a_conflict(world, case_in):
    second_commander = UserFactory(username="commander2", name="副指挥长")
    grant(second_commander, Role.COMMANDER, area=world.grid)
    for _ in range(ROUNDS):
        case = case_in("pending_review")
        mine, theirs = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)
        outcomes = race(
            partial(services.approve_case, mine, actor=world.commander),
            partial(services.approve_case, theirs, actor=second_commander),
        )
        conflicts = [o for o in outcomes if isinstance(o, Conflict)]
        assert len(conflicts) == 1, outcomes
        assert case.number in str(conflicts[0])
        assert sum(isinstance(o, Case) for o in outcomes) == 1
        case.refresh_from_db()
        assert case.state == CaseState.DISPATCHED
        assert case.events.filter(kind=EventKind.APPROVED).count() == 1


def test_cases_raised_together_get_distinct_consecutive_numbers(world):
    numbers = []
    for i in range(ROUNDS):
        outcomes = race(
            *[
                partial(
                    services.create_case,
                    actor=world.official,
                    community=world.community,
                    title=f"同时{i}-{j}",
                    template=world.template,
                )
                for j in range(3)
            ]
        )
        assert all(isinstance(o, Case) for o in outcomes), outcomes
        numbers += [o.number for o in outcomes]
    sequence = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert sequence == list(range(1, 3 * ROUNDS + 1))


def test_the_last_two_ratings_together_close_the_case_once(world, case_in):
    scores = {"result": 100, "conduct": 100}
    for _ in range(ROUNDS):
        case = case_in("pending_rating")
        outcomes = race(
            partial(
                rate_department, case, actor=world.official, department=world.dept_a, scores=scores
            ),
            partial(
                rate_department, case, actor=world.official, department=world.dept_b, scores=scores
            ),
        )
        assert not any(isinstance(o, Exception) for o in outcomes), outcomes
        case.refresh_from_db()
        assert case.state == CaseState.CLOSED
        assert case.events.filter(kind=EventKind.CLOSED).count() == 1
