"""The map's figures: a choropleth indicator per area, and case density on a coarse grid.

Both cover the scope's cases (``Scope.cases``: raised in the period, in the
asker's area, drafts left out), optionally one category. The choropleth of the
district or a town adds up the daily figures (``analytics.selectors.summed``),
and so does their density at the default cell (``CellDay``); smaller areas and
other cell sizes read the cases. Definitions:

- ``cases``: cases raised in the period (cancelled included).
- ``per_1000``: cases per 1,000 residents, ``cases × 1000 / population``
  (a float, unrounded); ``None`` where the area's population is unknown.
- ``overdue_share``: overdue cases / (cases − cancelled), a fraction 0–1,
  unrounded; overdue as everywhere: completed after the deadline, or open
  past it. ``None`` where no case counts.
- ``mean_response``: the mean response time in seconds (first dispatch to
  first acceptance) of the area's cases that were accepted, unrounded (to
  the microsecond the times carry); ``None`` where none was accepted.

Nothing here is rounded: figures are rounded once, where they are shown (the
phone app's map: per 1,000 to 0.01, share to 0.1 %, response to 0.1 minute),
so a rounding here could tip the last digit shown.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, FloatField, Q, Sum
from django.db.models.functions import Cast, Floor
from django.utils.translation import gettext as _

from analytics.models import CaseDay, CellDay
from analytics.scope import Scope
from analytics.selectors import (
    RESPONSE,
    open_overdue_per_day,
    overdue_condition,
    summed,
    uses_daily,
)
from cases.choices import CaseState
from core.errors import ValidationFailed
from grids.choices import AreaLevel
from grids.models import Area

LEVELS = {"town": AreaLevel.TOWN, "grid": AreaLevel.GRID, "community": AreaLevel.COMMUNITY}
INDICATORS = ("cases", "per_1000", "overdue_share", "mean_response")
#: Default and bounds of a density cell's side, in degrees (0.01° ≈ 1 km here).
DENSITY_CELL = 0.01
DENSITY_CELLS = (0.001, 0.5)


def choropleth(scope: Scope, *, level: str, indicator: str, category: int | None = None) -> dict:
    """A GeoJSON FeatureCollection: one feature per area of ``level`` in the scope.

    Each feature's ``properties``: ``id``, ``code``, ``name``, ``level``,
    ``parent``, ``population`` (or ``None``), ``cases``, ``cancelled``,
    ``overdue``, ``accepted``, the four indicators (definitions in the module
    docstring) and ``value`` (the chosen one). ``geometry`` is the area's
    boundary, or ``None`` where it has none. The collection also carries
    ``indicator``, ``level`` and ``range`` (``[min, max]`` of the non-null
    values, for the legend). Raises ``ValidationFailed`` when ``level`` lies
    above the scope's own area.
    """
    places = _areas_of(scope, LEVELS[level])
    sums = _sums_per_area(scope, places, LEVELS[level], category)
    features = []
    for area in places:
        figures = _indicators(sums.get(area["pk"]), area["population"])
        features.append(
            {
                "type": "Feature",
                "id": area["pk"],
                "geometry": area["boundary"],
                "properties": {
                    "id": area["pk"],
                    "code": area["code"],
                    "name": area["name"],
                    "level": area["level"],
                    "parent": area["parent_id"],
                    "population": area["population"],
                    **figures,
                    "value": figures[indicator],
                },
            }
        )
    values = [f["properties"]["value"] for f in features if f["properties"]["value"] is not None]
    return {
        "type": "FeatureCollection",
        "indicator": indicator,
        "level": level,
        "range": [min(values), max(values)] if values else None,
        "features": features,
    }


def _areas_of(scope: Scope, level: int) -> list:
    if scope.area is not None and scope.area.level > level:
        raise ValidationFailed(
            _("The map cannot show a level above your own area."),
            fields={"level": [_("Above your own area.")]},
        )
    areas = Area.objects.filter(level=level, is_active=True)
    if scope.area is not None:
        areas = areas.filter(path__startswith=scope.area.path)
    return list(
        areas.order_by("path").values(
            "pk", "code", "name", "level", "parent_id", "population", "boundary", "path"
        )
    )


def _sums_per_area(scope: Scope, places: list[dict], level: int, category) -> dict[int, dict]:
    """Sums per community, added up to the areas of ``level`` by path.

    The district and its towns add up the daily figures (``selectors.summed``:
    stale days computed from their cases) plus the open cases past their deadline,
    read live; smaller areas read their cases (one GROUP BY).
    """
    rows = _daily_rows(scope, category) if uses_daily(scope) else _live_rows(scope, category)
    # A path is "/district/town/grid/community/": the code of the level-n area is part n.
    by_code = {p["path"].split("/")[level]: p["pk"] for p in places}
    sums: dict[int, dict] = defaultdict(
        lambda: {"cases": 0, "cancelled": 0, "overdue": 0, "accepted": 0, "response_sum": 0.0}
    )
    for row in rows:
        parts = row["community__path"].split("/")
        pk = by_code.get(parts[level]) if len(parts) > level else None
        if pk is None:
            continue
        entry = sums[pk]
        for key in ("cases", "cancelled", "overdue", "accepted"):
            entry[key] += row[key]
        entry["response_sum"] += row["response_sum"] or 0.0
    return sums


def _daily_rows(scope: Scope, category) -> list[dict]:
    """Per community: the ``_live_rows`` figures, from the daily figures."""
    where: dict[str, Any] = {} if category is None else {"category_id": category}
    rows = {
        r["community_id"]: {
            "community_id": r["community_id"],
            "cases": r["raised"],
            "cancelled": r["cancelled"],
            "overdue": r["overdue_done"],
            "accepted": r["response_n"],
            "response_sum": r["response_sum"],
        }
        for r in summed(
            CaseDay,
            scope,
            ("community_id",),
            ("raised", "cancelled", "overdue_done", "response_n", "response_sum"),
            **where,
        )
    }
    late = open_overdue_per_day(scope, "community_id", "category_id")
    for r in late:
        if category is None or r["category_id"] == category:
            rows[r["community_id"]]["overdue"] += r["n"]  # an open case was raised: a row
    paths = dict(Area.objects.filter(pk__in=list(rows)).values_list("pk", "path"))
    return [{**r, "community__path": paths[r["community_id"]]} for r in rows.values()]


def _live_rows(scope: Scope, category) -> list[dict]:
    """Per community (``community_id``, ``community__path``): cases, cancelled, overdue,
    accepted (cases with a response time) and the sum of their response times."""
    cases = scope.cases()
    if category is not None:
        cases = cases.filter(category_id=category)
    return list(
        cases.values("community_id", "community__path").annotate(
            cases=Count("pk"),
            cancelled=Count("pk", filter=Q(state=CaseState.CANCELLED)),
            overdue=Count("pk", filter=overdue_condition()),
            accepted=Count(RESPONSE),
            response_sum=Sum(RESPONSE),
        )
    )


def _indicators(sums: dict | None, population: int | None) -> dict:
    s = sums or {"cases": 0, "cancelled": 0, "overdue": 0, "accepted": 0, "response_sum": 0.0}
    raised = s["cases"] - s["cancelled"]
    return {
        "cases": s["cases"],
        "cancelled": s["cancelled"],
        "overdue": s["overdue"],
        "accepted": s["accepted"],
        "per_1000": s["cases"] * 1000 / population if population else None,
        "overdue_share": s["overdue"] / raised if raised else None,
        "mean_response": s["response_sum"] / s["accepted"] if s["accepted"] else None,
    }


def cell_index(coordinate: str, cell: float):
    """The SQL ``floor(coordinate / cell)`` of a case's ``longitude`` or ``latitude``
    (degrees, a decimal read as a double): the number of the cell it lies in. The live
    density and the daily cells (``facts._cell_rows``) both count by it, so their cells
    are the same numbers. Null where the coordinate is."""
    return Floor(Cast(coordinate, FloatField()) / cell)


def density(scope: Scope, *, category: int | None = None, cell: float = DENSITY_CELL) -> dict:
    """Case locations binned on a longitude-latitude grid of ``cell`` degrees.

    Returns ``{"cell": degrees, "cells": [{"longitude", "latitude", "cases"}],
    "located": n, "unlocated": n}``: each cell by its south-west corner plus
    half a cell (its centre), rounded to 6 places; cells with no case are
    left out; cells ordered by longitude then latitude. ``located``: cases
    with a longitude (cancelled included, as everywhere ``cases`` counts);
    cases without coordinates count in ``unlocated`` only, those with a
    longitude but no latitude in ``located`` and in no cell.

    The district and its towns at the default cell add up the daily cells
    (``CellDay``, stale days computed from their cases) and the daily raised
    counts (``CaseDay``); other scopes and cell sizes read the cases. Both give
    the same result.
    """
    if uses_daily(scope) and cell == DENSITY_CELL:
        counts, located, raised = _daily_density(scope, category)
    else:
        counts, located, raised = _live_density(scope, category, cell)
    cells = [
        {
            "longitude": round((x + 0.5) * cell, 6),
            "latitude": round((y + 0.5) * cell, 6),
            "cases": n,
        }
        for x, y, n in counts
    ]
    return {"cell": cell, "cells": cells, "located": located, "unlocated": raised - located}


def _live_density(scope: Scope, category: int | None, cell: float) -> tuple[list, int, int]:
    """``([(x, y, cases)] ordered by x then y, located, raised)`` read from the cases."""
    cases = scope.cases()
    if category is not None:
        cases = cases.filter(category_id=category)
    located = cases.filter(longitude__isnull=False, latitude__isnull=False)
    rows = (
        located.annotate(x=cell_index("longitude", cell), y=cell_index("latitude", cell))
        .values("x", "y")
        # COUNT(*): no id read, so the index of migration analytics.0008 answers alone
        .annotate(n=Count("*"))
        .order_by("x", "y")
    )
    total = cases.aggregate(n=Count("*"), located=Count("longitude"))
    return [(r["x"], r["y"], r["n"]) for r in rows], total["located"], total["n"]


def _daily_density(scope: Scope, category: int | None) -> tuple[list, int, int]:
    """``_live_density`` at ``DENSITY_CELL``, from the daily figures: cells and located
    from ``CellDay``, raised from ``CaseDay`` (``selectors.summed``: no case of a fresh
    day is read)."""
    where: dict[str, Any] = {} if category is None else {"category_id": category}
    counts, located = [], 0
    for r in summed(CellDay, scope, ("x", "y"), ("cases",), **where):
        located += r["cases"]
        if r["y"] is not None:
            counts.append((r["x"], r["y"], r["cases"]))
    counts.sort()
    raised = summed(CaseDay, scope, (), ("raised",), **where)
    return counts, located, raised[0]["raised"] if raised else 0
