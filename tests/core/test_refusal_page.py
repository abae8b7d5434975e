"""A back-office page someone may not open says so in Chinese, and the index offers
the dashboard only to those who may open it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.choices import Role
from tests.factories import UserFactory, grant

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", [Role.SECADMIN, Role.AUDITADMIN])
def test_administrators_without_figures_are_not_offered_the_dashboard(role):
    person = UserFactory(username=f"t_{role}")
    grant(person, role)
    client = browser(person)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert reverse("analytics-dashboard") not in index.content.decode()
    refused = client.get(reverse("analytics-dashboard"))
    assert refused.status_code == 403
    page = refused.content.decode()
    assert "无权访问" in page and "未做任何更改" in page


def test_the_system_administrator_is_offered_the_dashboard(world):
    index = browser(world.sysadmin).get(reverse("admin:index"))
    assert reverse("analytics-dashboard") in index.content.decode()
