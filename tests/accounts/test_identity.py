"""Identity (身份鉴别): password rules and lock-out after repeated failures."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditRecord
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "password",
    ["Ab1!", "alllowercase", "ALLUPPER123", "12345678901", "password1!", "zhangsan2024!"],
)
def test_weak_passwords_are_refused(world, password):
    world.official.username = "zhangsan"
    with pytest.raises(ValidationError):
        validate_password(password, world.official)


@pytest.mark.parametrize("password", ["Jinshao@2024", "Qiu-Shui-7788", "lu7Hua#guo"])
def test_passwords_of_three_kinds_of_character_pass(world, password):
    validate_password(password, world.official)


def login(ip: str, password: str, username: str = "official"):
    return APIClient(REMOTE_ADDR=ip).post(
        reverse("api:token"), {"username": username, "password": password}, format="json"
    )


def test_five_failures_lock_the_account_from_that_address_only(world, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"login": "1000/min", "writes": "1000/min"},
    }
    for _ in range(4):
        assert login("10.9.9.9", "wrong-Password-1").status_code == 401
    assert login("10.9.9.9", "wrong-Password-1").status_code == 403  # the fifth locks
    locked = login("10.9.9.9", PASSWORD)  # even the right password now
    assert locked.status_code == 403
    error = locked.json()["error"]
    assert error["code"] == "locked_out" and "30" in error["message"]
    assert login("10.8.8.8", PASSWORD).status_code == 200  # the official, from their own phone
    assert AuditRecord.objects.filter(action="auth.locked_out", success=False).exists()


def test_a_success_clears_the_failures(world):
    for _ in range(4):
        login("10.7.7.7", "wrong-Password-1")
    assert login("10.7.7.7", PASSWORD).status_code == 200
    for _ in range(4):
        login("10.7.7.7", "wrong-Password-1")
    assert login("10.7.7.7", PASSWORD).status_code == 200  # 4 + 4 failures, never 5 in a row


def test_the_admin_login_locks_out_too(world, client):
    url = reverse("admin:login")
    for _ in range(5):
        client.post(url, {"username": "root", "password": "wrong-Password-1"})
    response = client.post(url, {"username": "root", "password": "Root-Pass-2024"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_a_phone_log_in_opens_no_session(world):
    response = login("10.6.6.6", PASSWORD)
    assert response.status_code == 200
    assert "sessionid" not in response.cookies  # phones carry tokens, never a cookie
