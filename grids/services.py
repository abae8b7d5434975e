"""State changes of the area tree (and its boundaries) and workstations."""

from __future__ import annotations

import json
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts import services as accounts
from accounts.choices import Role
from grids.geometry import validate_boundary
from grids.models import Area, Workstation


def workstation_posts(workstation: Workstation) -> list[tuple[object, Role | None]]:
    """``(person, role the post carries)`` for everyone a workstation names (deputies: none)."""
    posts: list[tuple[object, Role | None]] = [
        (workstation.commander, Role.COMMANDER),
        (workstation.grid_leader, Role.GRID_LEADER),
    ]
    if workstation.pk is not None:
        posts += [(deputy, None) for deputy in workstation.deputy_commanders.all()]
    return [(person, role) for person, role in posts if person is not None]


def check_workstation_people(people, *, grid, actor) -> None:
    """Raise ``accounts.services.SeparationRefused`` unless ``actor`` may name these people.

    ``people`` is ``(person, role)`` pairs (role ``None`` for a deputy, who
    gets no role but is still never an administrator account). Only existing,
    ordinary accounts are named (``accounts.services.check_nomination``).
    """
    for person, role in people:
        if role is None:
            accounts.check_nomination(person, Role.VILLAGE_OFFICIAL, actor=actor, grant=False)
        else:
            accounts.check_nomination(person, role, area=grid, actor=actor)


@transaction.atomic
def sync_workstation_roles(workstation: Workstation, *, actor, ip: str | None = None) -> None:
    """Give the workstation's commander and grid leader their roles over its grid.

    The workstation is where an administrator names these people; the role
    assignments are what permissions read. Every grant goes through
    ``accounts.services.grant_role`` (checked and audited with ``actor`` and
    ``ip``); naming an administrator account raises ``SeparationRefused`` and
    nothing is saved. Roles a person held through an earlier appointment here
    stay until the security administrator removes them.
    """
    check_workstation_people(workstation_posts(workstation), grid=workstation.grid, actor=actor)
    for person, role in workstation_posts(workstation):
        if role is not None:
            accounts.ensure_role(
                person, role, area=workstation.grid, actor=actor, ip=ip, via="workstation"
            )


class BoundaryProblem(NamedTuple):
    """One refused feature of a boundary import: its number (1-based), code and reason."""

    feature: int
    code: str
    problem: str


class BoundariesRefused(Exception):
    """A boundary import refused as a whole; ``problems`` names every bad feature."""

    def __init__(self, problems: list[BoundaryProblem]):
        super().__init__("; ".join(f"#{p.feature} {p.code}: {p.problem}" for p in problems))
        self.problems = problems


#: The largest boundary file read (bytes): the district's 349 areas take a few hundred kB.
MAX_BOUNDARY_BYTES = 20 * 1024 * 1024


def read_feature_collection(raw: bytes) -> dict:
    """Parse an uploaded GeoJSON FeatureCollection; ``BoundariesRefused`` (feature 0) if not one."""
    if len(raw) > MAX_BOUNDARY_BYTES:
        raise BoundariesRefused(
            [BoundaryProblem(0, "", _("The file is larger than 20 MB."))]  # noqa: RUF001
        )
    try:
        collection = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise BoundariesRefused(
            [BoundaryProblem(0, "", _("The file is not GeoJSON (UTF-8 JSON)."))]
        ) from None
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise BoundariesRefused(
            [BoundaryProblem(0, "", _("The file must hold a GeoJSON FeatureCollection."))]
        )
    if not isinstance(collection.get("features"), list):
        raise BoundariesRefused([BoundaryProblem(0, "", _("The collection has no features."))])
    return collection


@transaction.atomic
def import_boundaries(collection: dict, *, actor, ip: str | None = None) -> int:
    """Set the boundary (and population, if given) of each area a feature names; all or nothing.

    Each feature names its area by ``properties.code`` (or the feature's
    ``id``) and carries a Polygon or MultiPolygon (``grids.geometry``);
    ``properties.population`` (a whole number ≥ 0) is optional. Every bad
    feature is listed (unknown code, repeated code, bad geometry, bad
    population) in ``BoundariesRefused`` and nothing is saved. Returns the
    number of areas updated; audited as ``area.boundaries_imported``.
    """
    from audit.services import record

    features = collection["features"]
    codes = [_feature_code(f) for f in features]
    areas = {a.code: a for a in Area.objects.filter(code__in=[c for c in codes if c])}
    problems: list[BoundaryProblem] = []
    seen: set[str] = set()
    for number, (feature, code) in enumerate(zip(features, codes, strict=True), start=1):
        problem = _feature_problem(feature, code, areas, seen)
        if problem:
            problems.append(BoundaryProblem(number, code, problem))
        seen.add(code)
    if problems:
        raise BoundariesRefused(problems)
    changed = []
    for feature, code in zip(features, codes, strict=True):
        area = areas[code]
        area.boundary = feature["geometry"]
        population = (feature.get("properties") or {}).get("population")
        if population is not None:
            area.population = population
        changed.append(area)
    Area.objects.bulk_update(changed, ["boundary", "population", "updated_at"], batch_size=500)
    record("area.boundaries_imported", actor=actor, ip=ip, details={"areas": len(changed)})
    return len(changed)


def _feature_code(feature) -> str:
    if not isinstance(feature, dict):
        return ""
    code = (feature.get("properties") or {}).get("code") or feature.get("id") or ""
    return str(code).strip()


def _feature_problem(feature, code: str, areas: dict, seen: set[str]) -> str:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return _("Not a GeoJSON Feature.")
    if not code:
        return _("No area code (properties.code or the feature's id).")
    if code not in areas:
        return _("No area has the code %(code)s.") % {"code": code}
    if code in seen:
        return _("Area %(code)s appears twice.") % {"code": code}
    try:
        validate_boundary(feature.get("geometry"))
    except ValidationError as exc:
        return " ".join(exc.messages)
    if feature.get("geometry") is None:
        return _("The feature has no geometry.")
    population = (feature.get("properties") or {}).get("population")
    if population is not None and (
        not isinstance(population, int) or isinstance(population, bool) or population < 0
    ):
        return _("The population must be a whole number, 0 or more.")
    return ""


def export_boundaries(areas) -> dict:
    """A GeoJSON FeatureCollection of ``areas`` (those with a boundary), keyed by code.

    The same shape ``import_boundaries`` reads: ``properties`` carry ``code``,
    ``name``, ``level``, ``parent`` (its code) and ``population``.
    """
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": area.code,
                "properties": {
                    "code": area.code,
                    "name": area.name,
                    "level": area.level,
                    "parent": area.parent.code if area.parent_id else None,
                    "population": area.population,
                },
                "geometry": area.boundary,
            }
            for area in areas.filter(boundary__isnull=False)
            .select_related("parent")
            .order_by("path")
        ],
    }
