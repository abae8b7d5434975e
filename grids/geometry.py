"""Area boundaries as GeoJSON geometries (RFC 7946), checked in plain Python.

A boundary is a GeoJSON ``Polygon`` or ``MultiPolygon`` in WGS 84 longitude,
latitude order (no GIS extension: the database keeps it as JSON). Checked:
the type, the nesting, every position a pair of finite numbers within
[-180, 180] × [-90, 90], every ring closed with at least four positions.
Not checked: self-intersection and ring orientation (the map draws them all).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

BOUNDARY_TYPES = ("Polygon", "MultiPolygon")


def validate_boundary(value) -> None:
    """Raise ``ValidationError`` (a translated sentence) unless ``value`` is a valid boundary."""
    if value is None:
        return
    if not isinstance(value, dict):
        raise ValidationError(_("A boundary is a GeoJSON object."))
    kind = value.get("type")
    if kind not in BOUNDARY_TYPES:
        raise ValidationError(
            _("A boundary is a GeoJSON Polygon or MultiPolygon, not %(type)s.")
            % {"type": kind or "-"}
        )
    coordinates = value.get("coordinates")
    polygons = [coordinates] if kind == "Polygon" else coordinates
    if not isinstance(polygons, list) or not polygons:
        raise ValidationError(_("The boundary has no coordinates."))
    for polygon in polygons:
        _check_polygon(polygon)


def _check_polygon(polygon) -> None:
    if not isinstance(polygon, list) or not polygon:
        raise ValidationError(_("A polygon is a list of rings."))
    for ring in polygon:
        if not isinstance(ring, list) or len(ring) < 4:
            raise ValidationError(_("A ring needs at least four positions."))
        for position in ring:
            _check_position(position)
        if list(ring[0][:2]) != list(ring[-1][:2]):
            raise ValidationError(_("A ring must end where it starts."))


def _check_position(position) -> None:
    if (
        not isinstance(position, list)
        or len(position) < 2
        or not all(
            isinstance(n, int | float) and not isinstance(n, bool) and math.isfinite(n)
            for n in position[:2]
        )
    ):
        raise ValidationError(_("A position is a pair of numbers: longitude, latitude."))
    longitude, latitude = position[0], position[1]
    if not (-180 <= longitude <= 180 and -90 <= latitude <= 90):
        raise ValidationError(
            _("Position %(position)s is off the globe (longitude, latitude in degrees).")
            % {"position": f"[{longitude}, {latitude}]"}
        )


def rings(boundary: dict) -> Iterable[list]:
    """The outer rings of a Polygon or MultiPolygon."""
    if boundary["type"] == "Polygon":
        yield boundary["coordinates"][0]
    else:
        for polygon in boundary["coordinates"]:
            yield polygon[0]


def bounding_box(boundary: dict) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` of a boundary's outer rings."""
    xs, ys = [], []
    for ring in rings(boundary):
        xs += [p[0] for p in ring]
        ys += [p[1] for p in ring]
    return min(xs), min(ys), max(xs), max(ys)


def contains(boundary: dict, longitude: float, latitude: float) -> bool:
    """Whether the point lies inside the boundary (ray casting; holes are ignored)."""
    return any(_in_ring(ring, longitude, latitude) for ring in rings(boundary))


def _in_ring(ring: list, x: float, y: float) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip((p[:2] for p in ring), (p[:2] for p in ring[1:]), strict=False):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def rectangle(west: float, south: float, east: float, north: float) -> dict:
    """A GeoJSON Polygon of a longitude-latitude rectangle (counter-clockwise, closed)."""
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}
