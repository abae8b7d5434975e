"""A small fixed data set whose indicators are computed by hand in the tests."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from analytics import facts
from analytics.models import StaleDay
from cases.models import Case, Invitation
from grids.choices import AreaLevel
from ratings.models import Criterion, Rating, Score
from tests.factories import CategoryFactory, make_area

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)


@dataclass
class Sample:
    a: Case
    b: Case
    c: Case
    d: Case


def _case(world, number, community, category, state, *, created, **times) -> Case:
    case = Case.objects.create(
        number=number,
        title=f"案件{number}",
        community=community,
        category=category,
        caller=world.official if community == world.community else world.other_official,
        created_at=created,
        **times,
    )
    Case.objects.filter(pk=case.pk).update(state=state)  # the state machine is not under test here
    case.refresh_from_db()
    return case


def _invite(case, department, person, state, *, answered=None, reason=""):
    return Invitation.objects.create(
        case=case,
        department=department,
        person=person,
        invited_by=case.caller,
        state=state,
        invited_at=case.dispatched_at,
        responded_at=answered,
        reason=reason,
    )


def _rate(case, department, result, conduct):
    criteria = {c.code: c for c in Criterion.objects.all()}
    rating = Rating.objects.create(
        case=case,
        department=department,
        overall=Decimal(result + conduct) / 2,
        created_at=case.completed_at,  # rated when done: March 2026, a published month
    )
    Score.objects.create(rating=rating, criterion=criteria["result"], score=result)
    Score.objects.create(rating=rating, criterion=criteria["conduct"], score=conduct)


@pytest.fixture
def sample(world) -> Sample:
    """Four raised cases (and a draft) in March 2026, times in whole minutes.

    A: X, 曙光村, accepted after 10 min, done 2 h after dispatch, closed; 城管 accepted,
       水务 declined. B: X, 华严村, accepted after 30 min, done after 4 h with a 3 h
       deadline (late), closed. C: Y, 曙光村, accepted after 20 min by 城管 and 25 min
       by 水务, still open past its deadline. D: Y, cancelled. E: a draft.
    """
    x, y = CategoryFactory(name="占道经营"), CategoryFactory(name="河道污染")
    grid_community, other = world.community, world.other_community
    a = _case(
        world,
        "T-A",
        grid_community,
        x,
        "closed",
        created=T0,
        dispatched_at=T0,
        first_accepted_at=T0 + 10 * MIN,
        completed_at=T0 + 2 * HOUR,
        deadline=T0 + 72 * HOUR,
    )
    b = _case(
        world,
        "T-B",
        other,
        x,
        "closed",
        created=T0 + HOUR,
        dispatched_at=T0 + HOUR,
        first_accepted_at=T0 + HOUR + 30 * MIN,
        completed_at=T0 + 5 * HOUR,
        deadline=T0 + 4 * HOUR,
    )
    c = _case(
        world,
        "T-C",
        grid_community,
        y,
        "in_progress",
        created=T0 + 2 * HOUR,
        dispatched_at=T0 + 2 * HOUR,
        first_accepted_at=T0 + 2 * HOUR + 20 * MIN,
        deadline=T0 + 3 * HOUR,
    )
    d = _case(world, "T-D", grid_community, y, "cancelled", created=T0 + 3 * HOUR)
    _case(world, "T-E", grid_community, y, "draft", created=T0 + 4 * HOUR)
    _invite(a, world.dept_a, world.staff_a, "accepted", answered=a.first_accepted_at)
    _invite(
        a, world.dept_b, world.staff_b, "declined", answered=T0 + 5 * MIN, reason="不属于本部门"
    )
    _invite(b, world.dept_a, world.staff_a, "accepted", answered=b.first_accepted_at)
    _invite(c, world.dept_a, world.staff_a2, "accepted", answered=c.first_accepted_at)
    _invite(c, world.dept_b, world.staff_b, "accepted", answered=c.dispatched_at + 25 * MIN)
    _rate(a, world.dept_a, 90, 90)
    _rate(b, world.dept_a, 70, 90)
    return Sample(a, b, c, d)


@pytest.fixture
def spread(world):
    """60 raised cases with odd response and handling times in two towns (some never accepted)."""
    town2 = make_area(AreaLevel.TOWN, world.district, code="310120102", name="奉城镇")
    grid2 = make_area(AreaLevel.GRID, town2, code="310120102G01", name="奉城第一网格")
    village = make_area(AreaLevel.COMMUNITY, grid2, code="310120102001", name="洪庙村")
    communities = [world.community, world.other_community, village]
    category = CategoryFactory(name="占道经营")
    rng = random.Random(17)
    for n in range(60):
        created = T0 + timedelta(days=n % 20, minutes=n)
        accepted = created + timedelta(seconds=rng.uniform(60, 7200))
        completed = accepted + timedelta(seconds=rng.uniform(3600, 400000)) if n % 7 else None
        Case.objects.create(
            number=f"X-{n}",
            title="案件",
            community=communities[n % 3],
            category=category,
            caller=world.official,
            created_at=created,
            state="closed" if completed else "in_progress",
            dispatched_at=created,
            first_accepted_at=accepted if n % 11 else None,
            completed_at=completed if n % 11 else None,
            deadline=created + timedelta(hours=30),
        )
    facts.refresh_stale()  # what the task does on commit: the district and towns read daily
    assert not StaleDay.objects.exists()
    return {"district": None, "town": world.town, "town2": town2, "grid": world.grid}
