"""The phone app's log-in (``auth/session/``): a session cookie and CSRF, through the token
log-in's own checks, each refusal with its code and Chinese message; logging out ends
the session and its sockets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from accounts import twofactor
from accounts.models import User
from audit.models import AuditRecord
from tests.factories import PASSWORD, authenticator_code

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/session/"


def browser(ip: str = "10.3.3.3") -> Client:
    """A browser that fetched the CSRF cookie as the app does first."""
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=ip)
    assert client.get(URL).status_code == 204
    return client


def log_in(client: Client, password: str = PASSWORD, username: str = "official", **extra):
    return client.post(
        URL,
        {"username": username, "password": password, **extra},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )


def refusal(answer) -> tuple[int, str, str]:
    error = answer.json()["error"]
    return answer.status_code, error["code"], error["message"]


def test_the_route_is_named():
    assert reverse("api:session") == URL


def test_a_log_in_opens_a_session_and_gives_no_token(world):
    client = browser()
    answer = log_in(client)
    assert answer.status_code == 200
    body = answer.json()
    assert body["username"] == "official" and "waiting" in body
    assert "access" not in body and "refresh" not in body
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert client.get(reverse("api:me")).json()["username"] == "official"
    assert AuditRecord.objects.filter(action="auth.login", details__via="session").exists()


def test_a_log_in_without_the_csrf_token_is_refused(world):
    client = browser()
    answer = client.post(
        URL, {"username": "official", "password": PASSWORD}, content_type="application/json"
    )
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "permission_denied"
    assert client.get(reverse("api:me")).status_code in (401, 403)


def test_a_wrong_password_is_told_in_chinese(world):
    status, code, message = refusal(log_in(browser(), "wrong-Password-1"))
    assert (status, code) == (401, "authentication_failed")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)


def test_the_fifth_failure_locks_the_account(world, monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"login": "1000/min", "writes": "1000/min"}
    )
    client = browser("10.4.4.4")
    for _ in range(4):
        assert log_in(client, "wrong-Password-1").status_code == 401
    assert refusal(log_in(client, "wrong-Password-1"))[:2] == (403, "locked_out")  # the fifth
    status, code, message = refusal(log_in(client, PASSWORD))  # the right one, too late
    assert (status, code) == (403, "locked_out") and "30" in message


def test_too_many_attempts_are_throttled(world, monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"login": "2/min", "writes": "1000/min"}
    )
    client = browser("10.6.6.6")
    log_in(client, "wrong-Password-1")
    log_in(client, "wrong-Password-1")
    status, code, _ = refusal(log_in(client))
    assert (status, code) == (429, "throttled")


def test_an_expired_password_logs_in_to_change_it(world):
    User.objects.filter(pk=world.official.pk).update(
        password_changed_at=timezone.now()
        - timedelta(days=django_settings.JINSHAO_PASSWORD_MAX_AGE_DAYS + 1)
    )
    client = browser()
    answer = log_in(client)
    assert answer.status_code == 200 and answer.json()["password_expired"] is True
    status, code, _ = refusal(client.get(reverse("api:case-list")))
    assert (status, code) == (403, "password_expired")
    changed = client.post(
        reverse("api:password-change"),
        {"old_password": PASSWORD, "new_password": "Xin-Mima-2025"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert changed.status_code == 200
    assert changed.json()["password_expired"] is False and "access" not in changed.json()
    assert client.get(reverse("api:case-list")).status_code == 200  # the same session goes on


def test_the_second_factor_is_asked_for_then_checked(world, settings):
    settings.JINSHAO_2FA_ENFORCED = True
    settings.OTP_TOTP_THROTTLE_FACTOR = settings.OTP_STATIC_THROTTLE_FACTOR = 0
    status, code, _ = refusal(log_in(browser(), "Root-Pass-2024", "root"))
    assert (status, code) == (403, "second_factor_setup_required")
    device = twofactor.pending_device(world.superuser)
    codes = twofactor.confirm(world.superuser, device, authenticator_code(device))
    assert codes
    client = browser()
    status, code, _ = refusal(log_in(client, "Root-Pass-2024", "root"))
    assert (status, code) == (401, "second_factor_required")
    status, code, _ = refusal(log_in(client, "Root-Pass-2024", "root", otp="000000"))
    assert (status, code) == (401, "second_factor_required")
    assert log_in(client, "Root-Pass-2024", "root", otp=codes[0]).status_code == 200
    # the session carries the second factor: the API answers it
    assert client.get(reverse("api:case-list")).status_code == 200


def test_logging_out_ends_the_session(world):
    client = browser()
    assert log_in(client).status_code == 200
    out = client.delete(URL, HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert out.status_code == 204
    assert client.get(reverse("api:me")).status_code in (401, 403)
    assert AuditRecord.objects.filter(action="auth.logout", details__via="session").exists()


def test_logging_out_needs_the_csrf_token(world):
    client = browser()
    assert log_in(client).status_code == 200
    assert client.delete(URL).status_code == 403
    assert client.get(reverse("api:me")).status_code == 200


def test_logging_out_without_a_session_is_refused(world):
    client = browser()
    answer = client.delete(URL, HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert answer.status_code in (401, 403)
