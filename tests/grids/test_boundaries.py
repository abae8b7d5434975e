"""Area boundaries: GeoJSON checked, imported all or nothing per feature, edited, exported."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from grids.geometry import contains, rectangle, validate_boundary
from grids.models import Area
from grids.services import BoundariesRefused, export_boundaries, import_boundaries

SQUARE = rectangle(121.40, 30.90, 121.45, 30.95)


def feature(code, geometry=SQUARE, **properties):
    return {"type": "Feature", "properties": {"code": code, **properties}, "geometry": geometry}


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "Point", "coordinates": [121.4, 30.9]},
        {"type": "Polygon", "coordinates": [[[121.4, 30.9], [121.5, 30.9], [121.4, 30.9]]]},
        {"type": "Polygon", "coordinates": [[[1, 1], [2, 1], [2, 2], [1, 2]]]},  # not closed
        {"type": "Polygon", "coordinates": [[[200, 1], [2, 1], [2, 2], [200, 1]]]},
        {"type": "MultiPolygon", "coordinates": []},
        {"type": "Polygon", "coordinates": [[["a", 1], [2, 1], [2, 2], ["a", 1]]]},
        [1, 2],
    ],
)
def test_a_bad_geometry_is_refused(bad):
    with pytest.raises(ValidationError):
        validate_boundary(bad)


def test_a_polygon_and_a_multipolygon_pass_and_contain_their_points():
    validate_boundary(SQUARE)
    multi = {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"]]}
    validate_boundary(multi)
    assert contains(multi, 121.42, 30.93) and not contains(multi, 121.46, 30.93)


def test_the_import_is_all_or_nothing_with_a_problem_per_feature(world):
    collection = {
        "type": "FeatureCollection",
        "features": [
            feature(world.community.code, population=3000),
            feature("NOPE"),
            feature(world.grid.code, {"type": "Point", "coordinates": [1, 2]}),
            feature(world.community.code),
            feature(world.town.code, population=-1),
        ],
    }
    with pytest.raises(BoundariesRefused) as refused:
        import_boundaries(collection, actor=world.sysadmin)
    assert [(p.feature, p.code) for p in refused.value.problems] == [
        (2, "NOPE"),
        (3, world.grid.code),
        (4, world.community.code),
        (5, world.town.code),
    ]
    assert not Area.objects.filter(boundary__isnull=False).exists()  # nothing saved


def test_import_then_export_round_trips(world):
    collection = {
        "type": "FeatureCollection",
        "features": [feature(world.community.code, population=3000), feature(world.grid.code)],
    }
    assert import_boundaries(collection, actor=world.sysadmin) == 2
    world.community.refresh_from_db()
    assert world.community.boundary == SQUARE and world.community.population == 3000
    exported = export_boundaries(Area.objects.all())
    assert [f["properties"]["code"] for f in exported["features"]] == [
        world.grid.code,
        world.community.code,
    ]
    Area.objects.update(boundary=None)
    assert import_boundaries(exported, actor=world.sysadmin) == 2


def test_the_admin_imports_lists_problems_and_exports(client, world):
    client.force_login(world.superuser)
    url = reverse("admin:grids_area_import_boundaries")
    good = {"type": "FeatureCollection", "features": [feature(world.community.code)]}
    bad = {"type": "FeatureCollection", "features": [feature("NOPE")]}
    page = client.post(url, {"file": SimpleUploadedFile("b.geojson", json.dumps(bad).encode())})
    assert page.status_code == 200 and "NOPE" in page.content.decode()
    page = client.post(url, {"file": SimpleUploadedFile("b.geojson", b"{not json")})
    assert page.status_code == 200 and not Area.objects.filter(boundary__isnull=False).exists()
    done = client.post(url, {"file": SimpleUploadedFile("b.geojson", json.dumps(good).encode())})
    assert done.status_code == 302
    world.community.refresh_from_db()
    assert world.community.boundary == SQUARE
    exported = client.get(reverse("admin:grids_area_export_boundaries"))
    assert json.loads(exported.content)["features"][0]["properties"]["code"] == (
        world.community.code
    )
    changelist = client.get(reverse("admin:grids_area_changelist")).content.decode()
    assert reverse("admin:grids_area_import_boundaries") in changelist


def test_the_admin_form_refuses_a_bad_boundary(client, world):
    client.force_login(world.superuser)
    url = reverse("admin:grids_area_change", args=[world.community.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "parent": world.grid.pk,
            "is_active": "on",
            "boundary": json.dumps({"type": "Point", "coordinates": [1, 2]}),
        }
    )
    page = client.post(url, data)
    assert page.status_code == 200 and "Polygon" in page.content.decode()
    data["boundary"] = json.dumps(SQUARE)
    assert client.post(url, data).status_code == 302
    world.community.refresh_from_db()
    assert world.community.boundary == SQUARE
