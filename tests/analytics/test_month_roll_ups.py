"""Month roll-ups of the daily figures: a whole month is a few rows, never a row per day.

A period's whole months without a stale day are read from their roll-up rows,
its other days from the day rows, its stale days from their cases: the sums
must be exactly those of the all-live read, whatever the period's ends.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from django.db import connection, connections
from django.db.models import Sum
from django.urls import reverse

from analytics import facts, selectors
from analytics.models import CaseDay, StaleDay
from cases.models import Case
from tests.analytics.conftest import T0
from tests.analytics.test_stale_days import INDICATORS, _close_to
from tests.api.client import as_user

pytestmark = pytest.mark.django_db
#: From the 20th of January to the 10th of April: February and March whole, two ends.
PERIOD = {"from": "2026-01-20", "to": "2026-04-10"}
WAIT = 20  # seconds: a guard against a hang, never a synchronisation


@pytest.fixture
def months(world, spread):
    """The spread's March cases plus 40 more from the 5th of January to the 14th of April."""
    communities = [world.community, world.other_community]
    for n in range(40):
        created = T0 - timedelta(days=56) + timedelta(days=n * 2.5, minutes=7 * n)
        Case.objects.create(
            number=f"M-{n}",
            title="案件",
            community=communities[n % 2],
            category=Case.objects.get(number="X-0").category,
            caller=world.official,
            created_at=created,
            state="closed" if n % 3 else "in_progress",
            dispatched_at=created,
            first_accepted_at=created + timedelta(seconds=90 + 433.25 * n),
            completed_at=created + timedelta(hours=2 + 3 * n) if n % 3 else None,
            deadline=created + timedelta(hours=30),
        )
    facts.refresh_all()
    StaleDay.objects.all().delete()  # the creations above marked their days
    return spread


def _read(user, name, params, area):
    query = {**PERIOD, **params, **({"area": area.pk} if area is not None else {})}
    response = as_user(user).get(reverse(f"api:analytics-{name}"), query)
    assert response.status_code == 200, response.content
    return response.json()["data"]


def test_each_roll_up_is_the_sum_of_its_months_day_rows(months):
    for model in facts.FACTS:
        sums = {f: Sum(f) for f in model.sum_fields()}
        for month in (date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)):
            days = model.objects.filter(
                whole_month=False, day__range=(month, facts.month_end(month))
            )
            rolled = model.objects.filter(whole_month=True, day=month)
            assert rolled.exists() == days.exists(), (model.__name__, month)
            for keys in days.values(*model.KEYS).distinct():
                assert rolled.filter(**keys).aggregate(**sums) == _close_to(
                    days.filter(**keys).aggregate(**sums)
                ), (model.__name__, month, keys)


def test_a_whole_month_is_read_from_its_roll_up(world, months):
    """A day row changed behind the roll-up's back moves nothing: the month is one row."""
    before = _read(world.auditor, "overview", {}, None)["raised"]
    CaseDay.objects.filter(whole_month=False, day__month=2).update(raised=1000)
    assert _read(world.auditor, "overview", {}, None)["raised"] == before


@pytest.mark.parametrize("stale", [False, True], ids=["fresh", "a stale day in February"])
@pytest.mark.parametrize("scope", ["district", "town"])
@pytest.mark.parametrize(
    ("name", "params"), INDICATORS, ids=[f"{n} {' '.join(p.values())}" for n, p in INDICATORS]
)
def test_months_and_ends_equal_the_all_live_read(
    world, months, settings, monkeypatch, scope, name, params, stale
):
    settings.JINSHAO_RATING_MIN_GROUP = 2
    monkeypatch.setattr(selectors, "SUGGESTION_MIN_CASES", 2)
    area = months[scope]
    if stale:
        moved = Case.objects.get(number="M-12")  # raised in February
        moved.completed_at = moved.first_accepted_at + timedelta(minutes=3)
        moved.save()
        assert StaleDay.objects.filter(day__month=2).exists()
    mixed = _read(world.auditor, name, params, area)
    monkeypatch.setattr(selectors, "USE_DAILY", False)
    live = _read(world.auditor, name, params, area)
    assert mixed == _close_to(live)


def _change(number: str) -> date:
    """Case ``number`` completed 3 minutes after its acceptance; returns its day."""
    case = Case.objects.get(number=number)
    Case.objects.filter(pk=case.pk).update(
        state="closed", completed_at=case.first_accepted_at + timedelta(minutes=3)
    )
    return facts.day_of(case.created_at)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_rebuilds_of_one_month_leave_its_roll_up_whole(world, months):
    """Two days of February rebuilt at once, each in its own transaction: the second
    rolls the month up only after the first has committed, so neither day's change is
    lost from the roll-up (without the month's lock the second read the first's day
    rows as they were before, or wrote its rows beside the first's)."""
    first_day, second_day = _change("M-12"), _change("M-14")
    assert first_day != second_day and first_day.month == second_day.month == 2
    rolled, done = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}
    roll_up = facts.roll_up

    def first_rolls_up_then_waits(months_):
        roll_up(months_)
        if threading.current_thread().name == "first":
            rolled.set()
            deadline = WAIT * 10
            with connections["default"].cursor() as cursor:  # until the second waits on us
                while deadline and not done.is_set():
                    cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                    if cursor.fetchone()[0]:
                        break
                    deadline -= 1
                    done.wait(0.1)

    def rebuild(day):
        try:
            facts.refresh([day])
            outcomes[threading.current_thread().name] = "committed"
        except Exception as exc:  # noqa: BLE001 - asserted below
            outcomes[threading.current_thread().name] = exc
        finally:
            if threading.current_thread().name == "second":
                done.set()
            connections.close_all()

    facts.roll_up = first_rolls_up_then_waits
    try:
        first = threading.Thread(target=rebuild, args=(first_day,), name="first")
        first.start()
        assert rolled.wait(WAIT)
        second = threading.Thread(target=rebuild, args=(second_day,), name="second")
        second.start()
        first.join(WAIT)
        second.join(WAIT)
    finally:
        facts.roll_up = roll_up
    assert outcomes == {"first": "committed", "second": "committed"}
    for model in facts.FACTS:
        sums = {f: Sum(f) for f in model.sum_fields()}
        days = model.objects.filter(whole_month=False, day__month=2, day__year=2026)
        assert model.objects.filter(whole_month=True, day=date(2026, 2, 1)).aggregate(
            **sums
        ) == _close_to(days.aggregate(**sums)), model.__name__
    assert connection.vendor == "postgresql"


@pytest.mark.parametrize("scope", ["district", "town"])
def test_the_rising_categories_split_a_month_by_day(world, months, monkeypatch, scope):
    """The period's middle (the 9th of March here) cuts March in two: March is read by day
    for the halves, February and January's end from their roll-ups, the same figures."""
    area = months[scope]
    params = {"from": "2026-01-20", "to": "2026-04-25", "bucket": "month"}
    if area is not None:
        params["area"] = area.pk
    url = reverse("api:analytics-categories")
    mixed = as_user(world.auditor).get(url, params).json()["data"]
    monkeypatch.setattr(selectors, "USE_DAILY", False)
    live = as_user(world.auditor).get(url, params).json()["data"]
    assert mixed == live
    assert sum(r["first_half"] + r["second_half"] for r in mixed["rising"]) > 0
