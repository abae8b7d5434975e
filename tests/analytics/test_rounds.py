"""Response and handling time of a case handled in more than one round: a department
accepts, returns it, the caller re-dispatches, another department accepts and finishes.

Response is from the (first) dispatch to the first acceptance ever; handling is from that
acceptance to completion (docs/design-notes.md, "Response and handling"). A department's
own handling counts from its own acceptance."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.facts import refresh_all
from cases import services
from cases.choices import CaseState
from cases.models import Case
from tests.api.client import as_user

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday
MIN = timedelta(minutes=1)
PERIOD = {"from": "2026-11-02", "to": "2026-11-02"}


@pytest.fixture
def two_rounds(world, case_in, monkeypatch):
    clock = {"now": T0}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])

    def at(minutes: int) -> None:
        clock["now"] = T0 + minutes * MIN

    case = case_in("dispatched", invite=("staff_a",))  # dispatched at T0
    at(10)
    services.accept_invitation(case.invitations.get(person=world.staff_a), actor=world.staff_a)
    at(120)
    case.refresh_from_db()
    services.return_case(case, actor=world.staff_a, reason="不属于本部门职责")
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED
    at(180)
    services.redispatch_case(case, actor=world.official, invitees=[(world.dept_b, world.staff_b)])
    at(210)
    services.accept_invitation(case.invitations.get(person=world.staff_b), actor=world.staff_b)
    at(300)
    case.refresh_from_db()
    services.complete_case(case, actor=world.official)
    # Defaults bound to the real clock: raised and first invited at T0, re-invited at 180.
    Case.objects.filter(pk=case.pk).update(created_at=T0)
    case.invitations.filter(person=world.staff_a).update(invited_at=T0)
    case.invitations.filter(person=world.staff_b).update(invited_at=T0 + 180 * MIN)
    refresh_all()
    case.refresh_from_db()
    return case


def test_the_timestamps_keep_the_first_dispatch_and_the_first_acceptance(two_rounds):
    case = two_rounds
    assert case.dispatched_at == T0
    assert case.first_accepted_at == T0 + 10 * MIN  # not the second round's 210
    assert case.completed_at == T0 + 300 * MIN


@pytest.mark.parametrize("daily", [True, False], ids=["daily figures", "live scan"])
def test_the_indicators_of_a_returned_and_redispatched_case(world, two_rounds, monkeypatch, daily):
    from analytics import selectors

    monkeypatch.setattr(selectors, "USE_DAILY", daily)
    client = as_user(world.auditor)

    def data(name):
        response = client.get(reverse(f"api:analytics-{name}"), PERIOD)
        assert response.status_code == 200, response.content
        return response.json()["data"]

    overview = data("overview")
    assert (overview["response_mean"], overview["handling_mean"]) == (600.0, 17400.0)
    timeliness = data("timeliness")
    assert (timeliness["response"]["mean"], timeliness["handling"]["mean"]) == (600.0, 17400.0)
    rows = {row["name"]: row for row in data("departments")}
    second = rows[world.dept_b.name]
    # 水务局 was invited at 180 and accepted at 210; it finished at 300.
    assert (second["accepted"], second["response_mean"], second["handling_mean"]) == (
        1,
        1800.0,
        5400.0,
    )
    first = rows[world.dept_a.name]
    assert (first["accepted"], first["handling_mean"]) == (0, None)  # it returned the case
    assert (first["returned"], first["return_rate"], second["returned"]) == (1, 1.0, 0)
