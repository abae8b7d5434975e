"""Every change the daily figures depend on marks its days stale, even one that sends no signal.

A day that is not marked keeps its old rows: the district's and towns' figures then
differ from the cases until something else touches that day.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connections, transaction

from analytics import facts, selectors
from analytics.models import StaleDay
from cases.models import Case
from cases.services import return_case
from tests.analytics.conftest import T0
from tests.analytics.test_stale_days import _close_to, _read

pytestmark = pytest.mark.django_db
WAIT = 20  # seconds: a guard against a hang, never a synchronisation


def _daily_and_live(user, name, area, monkeypatch):
    daily = _read(user, name, {}, area)
    monkeypatch.setattr(selectors, "USE_DAILY", False)
    live = _read(user, name, {}, area)
    monkeypatch.setattr(selectors, "USE_DAILY", True)
    return daily, live


def test_a_department_returning_a_case_others_still_handle_marks_its_day(
    world, sample, monkeypatch
):
    """Case C is accepted by 城管 and 水务; 水务 returns it. The case stays in progress
    (城管 still has it), so it is not saved, and the invitations are bulk-updated."""
    facts.refresh_stale()
    return_case(Case.objects.get(number="T-C"), actor=world.staff_b, reason="不属于本部门职责")
    assert StaleDay.objects.filter(day=T0.date()).exists()
    daily, live = _daily_and_live(world.auditor, "departments", None, monkeypatch)
    assert daily == live
    water = next(r for r in daily if r["name"] == world.dept_b.name)
    assert water["returned"] == 1


def test_moving_a_grid_to_another_town_marks_its_cases_days(world, spread, monkeypatch):
    """The times, departments and cells are kept by town: a grid moved to another town
    must not leave its cases counted under the old one (the percentiles' bins would no
    longer count the town's cases)."""
    facts.refresh_stale()
    assert not StaleDay.objects.exists()
    grid = world.grid
    grid.parent = spread["town2"]
    grid.save()
    assert StaleDay.objects.exists()
    for area in (world.town, spread["town2"]):
        for name in ("overview", "timeliness", "distributions", "density"):
            daily, live = _daily_and_live(world.auditor, name, area, monkeypatch)
            assert daily == _close_to(live), (name, area.name)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rebuild_of_stale_days_waits_out_a_full_rebuild(world, sample):
    """While ``refresh_all`` runs, ``refresh_stale`` leaves its days (and their marks) to
    it instead of rebuilding the same rows beside it (they could deadlock on each other's
    rows, or write a day twice)."""
    facts.refresh_stale()
    c = Case.objects.get(number="T-C")
    c.save()  # marks its day; the eager rebuild is what we hold off below
    held, release = threading.Event(), threading.Event()

    def full_rebuild_holding_its_lock():
        try:
            with transaction.atomic():
                facts._hold_rebuilds(exclusive=True)
                held.set()
                release.wait(WAIT)
        finally:
            connections.close_all()

    StaleDay.objects.create(day=T0.date())
    thread = threading.Thread(target=full_rebuild_holding_its_lock)
    thread.start()
    try:
        assert held.wait(WAIT)
        assert facts.refresh_stale() == 0
        assert StaleDay.objects.filter(day=T0.date()).exists()
    finally:
        release.set()
        thread.join(WAIT)
    assert facts.refresh_stale() >= 1
    assert not StaleDay.objects.exists()
