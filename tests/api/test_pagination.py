"""Forged page markers are refused in the one error shape, never a 500.

A cursor is base64 of ``o=<offset>&r=<reverse>&p=<position>``: opaque, not
secret. Every cursor-paginated list is walked with positions its ordering
field cannot hold; the numbered pickers likewise.
"""

from __future__ import annotations

import base64

import pytest
from django.urls import reverse

from tests.api.client import as_user
from tests.conftest import make_case

pytestmark = pytest.mark.django_db

CURSOR_LISTS = ["api:case-list", "api:notification-list", "api:intake-review-list"]

FORGED_POSITIONS = [
    "p=garbage",
    "p=2024-13-45T99:00:00%2B08:00",
    "p=2024-01-01 00:00",  # naive: DRF never writes one
    "p=9999-12-31T23:59:59-14:00",  # past year 9999 once in UTC
    "p=0001-01-01T00:00:00%2B08:00",  # before year 1 once in UTC
    "p=2024-01-01%00",
    "p=" + "9" * 500,
    "o=5&r=1&p=yesterday",
]


def forged(querystring: str) -> str:
    return base64.b64encode(querystring.encode()).decode()


@pytest.mark.parametrize("name", CURSOR_LISTS)
@pytest.mark.parametrize("position", FORGED_POSITIONS)
def test_a_forged_cursor_is_a_404_in_the_error_shape(world, name, position):
    make_case(world, "in_progress")
    response = as_user(world.commander).get(reverse(name), {"cursor": forged(position)})
    assert response.status_code == 404, response.content
    assert response.json()["error"]["code"] == "not_found"
    assert set(response.json()["error"]) == {"code", "message", "fields"}


@pytest.mark.parametrize("name", CURSOR_LISTS)
def test_a_cursor_the_server_wrote_still_pages(world, name):
    from integrations import services
    from integrations.models import ExternalSystem

    for _ in range(3):
        make_case(world, "in_progress")
    system = ExternalSystem.objects.create(code="city", name="城运平台")
    for n in range(3):  # unmapped codes: reviews any commander may take
        data = {"external_id": f"P{n}", "category_code": "X", "area_code": "Z", "title": "占道"}
        services.take_in(system, services.parse_platform_case(system, data))
    client = as_user(world.commander)
    first = client.get(reverse(name), {"page_size": 1})
    assert first.status_code == 200
    following = first.json()["next"]
    assert following, "every list has more than one row here: a next page must be offered"
    second = client.get(following)
    assert second.status_code == 200
    rows = [first.json()["results"], second.json()["results"]]
    assert len(rows[0]) == len(rows[1]) == 1 and rows[0][0]["id"] != rows[1][0]["id"]


# A NUL is refused before any page is looked for: 400 invalid_characters
# (tests/core/test_refused_characters.py, every query parameter).
@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999999999999999", "1e3"])
def test_a_forged_page_number_is_a_404(world, page):
    response = as_user(world.official).get(reverse("api:department-list"), {"page": page})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
