"""How a test logs in like a phone, and the URLs it calls."""

from __future__ import annotations

from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import PASSWORD


def login(user) -> APIClient:
    """A phone that logged in with username and password (token pair)."""
    client = APIClient()
    response = client.post(
        reverse("api:token"), {"username": user.username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.data['access']}")
    client.refresh_token = response.data["refresh"]  # type: ignore[attr-defined]
    return client


def case_url(case, action=None) -> str:
    url = reverse("api:case-detail", args=[case.pk])
    return f"{url}{action}/" if action else url


def as_user(user) -> APIClient:
    """A client already authenticated as ``user`` (no login round trip, no login throttle)."""
    client = APIClient()
    client.force_authenticate(user)
    return client
