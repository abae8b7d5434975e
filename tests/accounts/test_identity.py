"""Identity (身份鉴别): password rules and lock-out after repeated failures."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

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


def test_five_failures_lock_the_account_from_that_address_only(world, monkeypatch):
    # DRF binds throttle rates to the class at import: patch the attribute.
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"login": "1000/min", "writes": "1000/min"}
    )
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


def _expire(user, days=91):
    from datetime import timedelta

    from django.utils import timezone

    type(user).objects.filter(pk=user.pk).update(
        password_changed_at=timezone.now() - timedelta(days=days)
    )


def test_an_expired_password_reaches_nothing_but_changing_it(world):
    _expire(world.official)
    phone = APIClient(REMOTE_ADDR="10.5.5.5")
    pair = login("10.5.5.5", PASSWORD).data
    phone.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    refused = phone.get(reverse("api:case-list"))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "password_expired"
    assert phone.get(reverse("api:me")).data["password_expired"] is True
    url = reverse("api:password-change")
    wrong = phone.post(
        url, {"old_password": "nope", "new_password": "Xin-Mima-2025"}, format="json"
    )
    assert wrong.status_code == 400 and "old_password" in wrong.json()["error"]["fields"]
    weak = phone.post(url, {"old_password": PASSWORD, "new_password": "abc"}, format="json")
    assert weak.status_code == 400 and "new_password" in weak.json()["error"]["fields"]
    done = phone.post(
        url, {"old_password": PASSWORD, "new_password": "Xin-Mima-2025"}, format="json"
    )
    assert done.status_code == 200
    phone.credentials(HTTP_AUTHORIZATION=f"Bearer {done.data['access']}")
    assert phone.get(reverse("api:case-list")).status_code == 200
    stale = APIClient().post(
        reverse("api:token-refresh"), {"refresh": pair["refresh"]}, format="json"
    )
    assert stale.status_code == 401  # the refresh tokens from before no longer work
    assert AuditRecord.objects.filter(action="auth.password_change", success=True).exists()


def test_the_browser_is_sent_to_change_an_expired_password(world, client):
    _expire(world.superuser)
    client.force_login(world.superuser)
    page = client.get(reverse("admin:index"))
    assert page.status_code == 302 and page["Location"] == reverse("admin:password_change")
    assert client.get(reverse("admin:password_change")).status_code == 200


def test_changing_the_password_ends_the_other_sessions(world):
    from django.test import Client

    first, second = Client(), Client()
    for browser in (first, second):
        browser.force_login(world.superuser)
    assert first.get(reverse("admin:index")).status_code == 200
    second.post(
        reverse("admin:password_change"),
        {
            "old_password": "Root-Pass-2024",
            "new_password1": "Xin-Mima-2025",
            "new_password2": "Xin-Mima-2025",
        },
    )
    assert second.get(reverse("admin:index")).status_code == 200  # the one that changed it
    assert first.get(reverse("admin:index")).status_code == 302  # the other one is out


def test_accounts_unused_for_90_days_are_disabled(world):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import User

    long_ago = timezone.now() - timedelta(days=91)
    User.objects.filter(pk=world.stranger.pk).update(last_login=long_ago)
    User.objects.filter(pk=world.leader.pk).update(last_login=None, date_joined=long_ago)
    User.objects.filter(pk=world.superuser.pk).update(last_login=long_ago)
    call_command("disable_inactive_accounts")
    inactive = set(User.objects.filter(is_active=False).values_list("username", flat=True))
    assert inactive == {"stranger", "leader"}  # never the superuser (break-glass)
    assert AuditRecord.objects.filter(action="account.disabled_inactive").count() == 2
    assert login("10.4.4.4", PASSWORD, username="stranger").status_code == 401
