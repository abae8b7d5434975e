"""Deny by default over the API: every list endpoint, for every role, against a written table.

Object-level rules (which cases, which notifications) are tested elsewhere; here
each role either reaches an endpoint (200, its own scope) or is refused (403),
and nobody unauthenticated reaches anything (401).
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.choices import Role
from tests.api.client import as_user
from tests.factories import UserFactory, grant

pytestmark = pytest.mark.django_db

EVERYONE = {
    "api:me",
    "api:area-list",
    "api:template-list",
    "api:department-list",
    "api:staff-list",
    "api:case-list",
    "api:notification-list",
    "api:rating-criterion-list",
    "api:intake-review-list",  # empty unless a commander or the queue's administrators
}
INDICATORS = {"api:analytics-overview", "api:analytics-departments", "api:analytics-categories"}
ENDPOINTS = sorted(EVERYONE | INDICATORS)
#: Who reaches the indicators (their own area, or all of it).
SEES_INDICATORS = {"leader", "grid_leader", "commander", "auditor", "sysadmin", "superuser"}
ROLES = sorted(
    {
        "official",
        "commander",
        "grid_leader",
        "leader",
        "staff_a",
        "head_a",
        "auditor",
        "sysadmin",
        "secadmin",
        "auditadmin",
        "stranger",
        "superuser",
    }
)


@pytest.fixture
def people(world):
    found = {name: getattr(world, name) for name in ROLES if hasattr(world, name)}
    found["secadmin"], found["auditadmin"] = (
        UserFactory(username="sec_t"),
        UserFactory(username="aud_t"),
    )
    grant(found["secadmin"], Role.SECADMIN)
    grant(found["auditadmin"], Role.AUDITADMIN)
    return found


@pytest.mark.parametrize("who", ROLES)
def test_every_endpoint_for_every_role(people, who):
    client = as_user(people[who])
    for name in ENDPOINTS:
        expected = 200 if name in EVERYONE or who in SEES_INDICATORS else 403
        assert client.get(reverse(name)).status_code == expected, (who, name)


def test_nothing_without_logging_in(world):
    for name in ENDPOINTS:
        response = APIClient().get(reverse(name))
        assert (
            response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"
        )
