"""Every figure is exact to the digit shown, at every level, checked by an independent computation.

Times have microseconds and are spread over two towns, so a bucketed or
approximate percentile would miss the last digit. The reference is
``statistics.quantiles(..., method="inclusive")`` (type 7, the definition
the API states) over the per-case times, and plain sums for the map.
"""

from __future__ import annotations

import statistics
from datetime import UTC, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from analytics import facts
from cases.models import Case
from grids.choices import AreaLevel
from tests.analytics.conftest import T0
from tests.api.client import as_user
from tests.factories import CategoryFactory

PERIOD = {"from": "2026-03-01", "to": "2026-03-31"}


def _times(area):
    cases = Case.objects.exclude(state="draft")
    if area is not None:
        cases = cases.filter(community__path__startswith=area.path)
    response, handling = [], []
    for c in cases:
        if c.first_accepted_at:
            response.append((c.first_accepted_at - c.dispatched_at).total_seconds())
            if c.completed_at:
                handling.append((c.completed_at - c.first_accepted_at).total_seconds())
    return response, handling


def _quantile(values, fraction):
    """The exact percentile (times are unrounded in the API: to the microsecond and below)."""
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return pytest.approx(cuts[round(fraction * 100) - 1], abs=1e-6)


def _get(user, name, area):
    params = {**PERIOD, **({"area": area.pk} if area is not None else {})}
    response = as_user(user).get(reverse(f"api:analytics-{name}"), params)
    assert response.status_code == 200, response.content
    return response.json()["data"]


@pytest.mark.parametrize("level", ["district", "town", "town2", "grid", "community"])
def test_percentiles_agree_with_statistics_quantiles_at_every_level(world, spread, level):
    area = world.community if level == "community" else spread[level]
    response, handling = _times(area)
    assert len(response) >= 5 and len(handling) >= 5
    overview = _get(world.auditor, "overview", area)
    timeliness = _get(world.auditor, "timeliness", area)
    assert overview["response_median"] == _quantile(response, 0.5)
    assert overview["handling_median"] == _quantile(handling, 0.5)
    assert timeliness["response"]["p50"] == _quantile(response, 0.5)
    assert timeliness["response"]["p90"] == _quantile(response, 0.9)
    assert timeliness["handling"]["p50"] == _quantile(handling, 0.5)
    assert timeliness["handling"]["p90"] == _quantile(handling, 0.9)
    assert overview["response_mean"] == pytest.approx(statistics.fmean(response), abs=1e-6)


@pytest.mark.parametrize("level", ["town", "grid", "community"])
def test_the_map_agrees_with_a_plain_count_per_area(world, spread, level):
    """Every figure of every area, against plain SQL over the rows (no ORM aggregate)."""
    world.community.population = 7000
    world.community.save()
    spread["town2"].population = 2900
    spread["town2"].save()
    params = {**PERIOD, "level": level, "indicator": "mean_response"}
    body = as_user(world.auditor).get(reverse("api:analytics-map"), params).json()
    data = body["data"]
    assert data["type"] == "FeatureCollection" and data["indicator"] == "mean_response"
    levels = {"town": AreaLevel.TOWN, "grid": AreaLevel.GRID, "community": AreaLevel.COMMUNITY}
    from grids.models import Area

    expected = Area.objects.filter(level=levels[level]).count()
    assert len(data["features"]) == expected
    now = timezone.now()
    for feature in data["features"]:
        props = feature["properties"]
        area = Area.objects.get(pk=props["id"])
        rows = _plain_rows(area)
        raised = [r for r in rows if r["state"] != "cancelled"]
        overdue = sum(
            1
            for r in rows
            if (r["completed_at"] and r["completed_at"] > r["deadline"])
            or (
                not r["completed_at"]
                and r["state"] not in ("cancelled", "closed", "completed")
                and r["deadline"] < now
            )
        )
        response = [
            (r["first_accepted_at"] - r["dispatched_at"]).total_seconds()
            for r in rows
            if r["first_accepted_at"] and r["dispatched_at"]
        ]
        assert props["cases"] == len(rows)
        assert props["overdue"] == overdue
        assert props["overdue_share"] == (
            pytest.approx(overdue / len(raised), abs=1e-12) if raised else None
        )
        mean = pytest.approx(statistics.fmean(response), abs=1e-6) if response else None
        assert props["mean_response"] == mean
        assert props["value"] == mean
        if area.population:
            assert props["per_1000"] == pytest.approx(len(rows) * 1000 / area.population, abs=1e-12)
        else:
            assert props["per_1000"] is None
    if level == "community":  # the fixture reaches the figures the test means to check
        assert any(f["properties"]["per_1000"] for f in data["features"])


def _plain_rows(area):
    """The area's non-draft cases, read with plain SQL (independent of the ORM's aggregates)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.state, c.dispatched_at, c.first_accepted_at, c.completed_at, c.deadline"
            " FROM cases_case c JOIN grids_area a ON a.id = c.community_id"
            " WHERE c.state <> 'draft' AND a.path LIKE %s",
            [area.path + "%"],
        )
        names = [col[0] for col in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:  # SQLite hands back text; PostgreSQL datetimes
        for key in ("dispatched_at", "first_accepted_at", "completed_at", "deadline"):
            value = row[key]
            if isinstance(value, str):
                value = parse_datetime(value)
            if value is not None and value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            row[key] = value
    return rows


def test_the_map_sends_figures_unrounded_so_the_app_rounds_once(world):
    """Cases whose figures tip the last digit shown when rounded twice.

    29 cases in one community, 1 overdue: share 1/29 = 3.448… % (shown 3.4 %);
    rounded first to 0.0001 (0.0345) it showed 3.5 %. Three accepted after
    176.992, 177.000 and 176.996 s: mean 176.996 s = 2.9499 minutes (shown 2.9);
    rounded first to 0.01 s (177.00 s) it showed 3.0 minutes. Population 7,000:
    4.142857… per 1,000, sent as is.
    """
    world.community.population = 7000
    world.community.save()
    category = CategoryFactory(name="占道经营")
    far = T0 + timedelta(days=3650)
    for n in range(29):
        created = T0 + timedelta(minutes=n)
        seconds = {0: 176.992, 1: 177, 2: 176.996}.get(n)
        accepted = timedelta(seconds=seconds) if seconds else None
        Case.objects.create(
            number=f"R-{n}",
            title="案件",
            community=world.community,
            category=category,
            caller=world.official,
            created_at=created,
            state="closed" if n == 2 else "in_progress",
            dispatched_at=created,
            first_accepted_at=created + accepted if accepted else None,
            completed_at=created + timedelta(hours=5) if n == 2 else None,
            deadline=created + timedelta(hours=1) if n == 2 else far,
        )
    params = {**PERIOD, "level": "community"}
    data = as_user(world.auditor).get(reverse("api:analytics-map"), params).json()["data"]
    props = next(f["properties"] for f in data["features"] if f["id"] == world.community.pk)
    assert props["cases"] == 29 and props["overdue"] == 1 and props["accepted"] == 3
    assert props["overdue_share"] == pytest.approx(1 / 29, abs=1e-12)
    assert f"{props['overdue_share'] * 100:.1f}" == "3.4"
    assert props["mean_response"] == pytest.approx(176.996, abs=1e-6)
    assert f"{props['mean_response'] / 60:.1f}" == "2.9"
    assert props["per_1000"] == pytest.approx(29 / 7, abs=1e-12)


def test_the_map_is_scoped_to_the_askers_area(world, spread):
    params = {**PERIOD, "level": "community"}
    body = as_user(world.leader).get(reverse("api:analytics-map"), params).json()["data"]
    names = {f["properties"]["name"] for f in body["features"]}
    assert names == {"曙光村", "华严村"}  # the leader's town only, not 洪庙村
    refused = as_user(world.leader).get(
        reverse("api:analytics-map"), {**PERIOD, "area": spread["town2"].pk}
    )
    assert refused.status_code == 403


def test_density_bins_located_cases(world, spread):
    from decimal import Decimal

    Case.objects.filter(number__in=["X-0", "X-3"]).update(
        longitude=Decimal("121.4512"), latitude=Decimal("30.9161")
    )
    Case.objects.filter(number="X-6").update(
        longitude=Decimal("121.5099"), latitude=Decimal("30.9001")
    )
    # update() sends no signal: mark the days as any bulk writer must (the daily cells)
    facts.mark_stale({facts.day_of(c.created_at) for c in Case.objects.all()})
    data = _get(world.auditor, "density", None)
    assert data["located"] == 3 and data["unlocated"] == 57
    assert {(c["longitude"], c["latitude"], c["cases"]) for c in data["cells"]} == {
        (121.455, 30.915, 2),
        (121.505, 30.905, 1),
    }


def test_the_map_names_its_tile_source_only_when_one_is_set(world, settings):
    """No tiles by default (this network has none); a configured source reaches the app."""
    url = reverse("api:analytics-map")
    data = as_user(world.auditor).get(url, PERIOD).json()["data"]
    assert data["tiles"] == {"url": "", "attribution": ""}
    settings.JINSHAO_MAP_TILES_URL = "https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}&y={y}&l={z}"
    settings.JINSHAO_MAP_TILES_ATTRIBUTION = "© 天地图"
    data = as_user(world.auditor).get(url, PERIOD).json()["data"]
    assert data["tiles"] == {
        "url": "https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}&y={y}&l={z}",
        "attribution": "© 天地图",
    }


def test_the_csp_lets_in_the_tile_host_only_when_set():
    from config.settings import CONTENT_SECURITY_POLICY, _tile_source

    assert _tile_source("") == []
    assert _tile_source("https://t{s}.tianditu.gov.cn/vec_w/wmts?l={z}") == [
        "https://*.tianditu.gov.cn"
    ]
    assert _tile_source("https://tiles.example.cn/{z}/{x}/{y}.png") == ["https://tiles.example.cn"]
    # This network sets none: images only from our own origin, data: and blob:.
    assert CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"] == ["'self'", "data:", "blob:"]
