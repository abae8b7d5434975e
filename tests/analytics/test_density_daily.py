"""The density map of the district and its towns adds up daily cells (issue 17).

At the default cell (0.01°) the district's and a town's density read ``CellDay``
(and ``CaseDay`` for the raised count), stale days computed from their cases;
every other scope and cell size reads the cases. Each test compares the answer
with the live one (``selectors.USE_DAILY`` off), key for key and in order, and
the daily path is checked to read no case of a fresh day.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics import facts, selectors
from analytics.models import CellDay, StaleDay
from cases.models import Case
from tests.api.client import as_user
from tests.factories import CategoryFactory

PERIOD = {"from": "2026-03-01", "to": "2026-03-31"}


def _place(n: int) -> tuple[Decimal | None, Decimal | None]:
    """Case X-n's coordinates: a spread over a few cells, some on a cell's edge,
    one with a longitude only (located, in no cell), one with a latitude only and a
    few with none (unlocated)."""
    if n % 10 == 9:
        return None, None
    if n == 4:
        return Decimal("121.4500"), None
    if n == 8:
        return None, Decimal("30.9100")
    lon = Decimal("121.4400") + Decimal(n % 4) * Decimal("0.0050") + Decimal(n % 3) / 1000
    lat = Decimal("30.9000") + Decimal(n % 5) * Decimal("0.0100") - Decimal(n % 2) / 10000
    return lon, lat


@pytest.fixture
def located(world, spread):
    """The spread's 60 cases with coordinates, two categories and two cancelled; figures
    rebuilt, so no day is stale."""
    second = CategoryFactory(name="河道污染")
    for case in Case.objects.filter(number__startswith="X-"):
        n = int(case.number[2:])
        lon, lat = _place(n)
        Case.objects.filter(pk=case.pk).update(
            longitude=lon,
            latitude=lat,
            category=second if n % 4 == 1 else case.category,
            state="cancelled" if n in (5, 12) else case.state,
        )
    facts.refresh_all()
    assert not StaleDay.objects.exists()
    return {**spread, "category": second}


def _density(user, params: dict, *, daily: bool, monkeypatch) -> tuple[dict, list[str]]:
    """The endpoint's data and the SQL it ran, daily figures on or off."""
    monkeypatch.setattr(selectors, "USE_DAILY", daily)
    with CaptureQueriesContext(connection) as ctx:
        response = as_user(user).get(reverse("api:analytics-density"), {**PERIOD, **params})
    assert response.status_code == 200, response.content
    return response.json()["data"], [q["sql"] for q in ctx.captured_queries]


def _reads_cases(queries: list[str]) -> bool:
    return any('"cases_case"' in sql for sql in queries)


def _same(daily: dict, live: dict) -> None:
    assert json.dumps(daily) == json.dumps(live)  # same keys, order, numbers and types


CASES = {
    "district": lambda w, d: {},
    "town": lambda w, d: {"area": w.town.pk},
    "town2": lambda w, d: {"area": d["town2"].pk},
    "category": lambda w, d: {"category": d["category"].pk},
    "town and category": lambda w, d: {"area": w.town.pk, "category": d["category"].pk},
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_daily_cells_are_the_live_cells_and_read_no_case(world, located, case, monkeypatch):
    params = CASES[case](world, located)
    live, _ = _density(world.auditor, params, daily=False, monkeypatch=monkeypatch)
    daily, queries = _density(world.auditor, params, daily=True, monkeypatch=monkeypatch)
    _same(daily, live)
    assert live["cells"] and live["located"] and live["unlocated"]  # the fixture reaches them
    assert not _reads_cases(queries), queries  # before issue 17 every case was counted


def test_the_district_counts_what_the_fixture_placed(world, located, monkeypatch):
    data, _ = _density(world.auditor, {}, daily=True, monkeypatch=monkeypatch)
    cases = list(Case.objects.exclude(state="draft"))
    assert data["located"] == sum(c.longitude is not None for c in cases)
    assert data["unlocated"] == sum(c.longitude is None for c in cases)
    in_cells = [c for c in cases if c.longitude is not None and c.latitude is not None]
    assert sum(cell["cases"] for cell in data["cells"]) == len(in_cells)
    assert any(c.state == "cancelled" and c.longitude is not None for c in cases)


def test_the_rebuild_writes_the_cells(world, located):
    rows = CellDay.objects.filter(whole_month=False)
    placed = Case.objects.exclude(state="draft").filter(longitude__isnull=False).count()
    assert sum(rows.values_list("cases", flat=True)) == placed
    assert rows.filter(y__isnull=True).count() == 1  # a longitude and no latitude
    assert {r.town_id for r in rows} == {world.town.pk, located["town2"].pk}


def test_other_cells_and_smaller_areas_read_the_cases(world, located, monkeypatch):
    for params in ({"cell": 0.005}, {"area": world.grid.pk}, {"cell": 0.02, "area": world.town.pk}):
        live, _ = _density(world.auditor, params, daily=False, monkeypatch=monkeypatch)
        daily, queries = _density(world.auditor, params, daily=True, monkeypatch=monkeypatch)
        _same(daily, live)
        assert live["cells"]
        assert _reads_cases(queries)


def test_a_stale_day_is_counted_from_its_cases(world, located, monkeypatch):
    before, _ = _density(world.auditor, {}, daily=True, monkeypatch=monkeypatch)
    case = Case.objects.get(number="X-0")
    case.longitude, case.latitude = Decimal("121.6123"), Decimal("31.0456")
    case.save()  # marks its day; the rebuild waits for a commit that never comes here
    assert StaleDay.objects.filter(day=facts.day_of(case.created_at)).exists()
    for params in ({}, {"area": world.town.pk}, {"category": case.category_id}):
        live, _ = _density(world.auditor, params, daily=False, monkeypatch=monkeypatch)
        daily, queries = _density(world.auditor, params, daily=True, monkeypatch=monkeypatch)
        _same(daily, live)
    assert daily != before and [121.615, 31.045] in [
        [c["longitude"], c["latitude"]] for c in daily["cells"]
    ]
    assert StaleDay.objects.exists()  # the reads rebuilt nothing
    facts.refresh_stale()
    fresh, queries = _density(world.auditor, {}, daily=True, monkeypatch=monkeypatch)
    _same(fresh, _density(world.auditor, {}, daily=False, monkeypatch=monkeypatch)[0])
    assert not _reads_cases(queries)


@pytest.mark.postgres
def test_on_postgresql_daily_and_live_agree_at_cell_edges(world, located, monkeypatch):
    """PostgreSQL casts the decimal to a double before dividing: edges such as 121.45
    land in whichever cell that double falls in, and both paths agree on it."""
    edges = [Decimal("121.4500"), Decimal("121.4600"), Decimal("-0.0100"), Decimal("0.0300")]
    for n, value in enumerate(edges):
        Case.objects.filter(number=f"X-{n * 10}").update(longitude=value, latitude=value / 4)
    facts.refresh_all()
    for params in ({}, {"area": world.town.pk}):
        live, _ = _density(world.auditor, params, daily=False, monkeypatch=monkeypatch)
        daily, queries = _density(world.auditor, params, daily=True, monkeypatch=monkeypatch)
        _same(daily, live)
        assert not _reads_cases(queries)
