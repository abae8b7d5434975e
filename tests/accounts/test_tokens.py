"""A phone's tokens end with what should end them, and a refresh token is spent once."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import BlacklistMixin

from accounts.models import User
from tests.api.client import login

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Another-Pass-2025"


def refresh(token: str):
    return APIClient().post(reverse("api:token-refresh"), {"refresh": token}, format="json")


def still_works(phone) -> bool:
    """The phone's access token still opens ``me/``, and its refresh token still refreshes."""
    me = phone.get(reverse("api:me")).status_code
    again = refresh(phone.refresh_token).status_code
    assert (me == 200) == (again == 200), (me, again)  # both or neither
    return me == 200


def test_a_password_reset_in_the_admin_ends_the_phone_s_tokens(world):
    phone = login(world.staff_a)
    admin = Client()
    admin.force_login(world.superuser)
    url = reverse("admin:auth_user_password_change", args=[world.staff_a.pk])
    answer = admin.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert answer.status_code == 302, answer.content
    world.staff_a.refresh_from_db()
    assert world.staff_a.check_password(NEW_PASSWORD)
    assert not still_works(phone)


@pytest.mark.parametrize("path", ["save", "update"])
def test_a_new_password_on_any_path_ends_the_tokens(world, path):
    phone = login(world.staff_a)
    user = User.objects.get(pk=world.staff_a.pk)
    user.set_password(NEW_PASSWORD)
    if path == "save":  # the shell, a management command, a form
        user.save()
    else:  # behind the model's back: no signal at all
        User.objects.filter(pk=user.pk).update(password=user.password)
    assert phone.get(reverse("api:me")).status_code == 401
    assert refresh(phone.refresh_token).status_code == 401


def test_deactivation_ends_tokens_and_sessions_for_good(world):
    phone = login(world.staff_a)
    browser = Client()
    browser.force_login(world.staff_a)
    world.staff_a.is_active = False
    world.staff_a.save()
    assert not still_works(phone)
    assert not Session.objects.exists()  # the browser's session is gone, not just ignored
    world.staff_a.is_active = True  # reactivated: the old logins stay ended
    world.staff_a.save()
    assert not still_works(phone)
    assert browser.get(reverse("api:me")).status_code in (401, 403)


def test_a_lock_out_ends_the_tokens(world):
    phone = login(world.staff_a)
    assert still_works(phone)  # the phone was logged in before the lock-out
    attacker = APIClient(REMOTE_ADDR="10.9.9.9")
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        attacker.post(
            reverse("api:token"),
            {"username": "staff_a", "password": "Guess-Pass-2024"},
            format="json",
        )
    assert not still_works(phone)


def test_logging_out_ends_the_access_token_at_once(world):
    phone = login(world.staff_a)
    answer = phone.post(reverse("api:logout"), {"refresh": phone.refresh_token}, format="json")
    assert answer.status_code == 204
    assert phone.get(reverse("api:me")).status_code == 401


def test_a_refresh_gives_a_pair_that_works(world):
    phone = login(world.staff_a)
    pair = refresh(phone.refresh_token)
    assert pair.status_code == 200 and set(pair.data) == {"access", "refresh"}
    phone.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.data['access']}")
    assert phone.get(reverse("api:me")).status_code == 200
    assert refresh(pair.data["refresh"]).status_code == 200


def test_a_refresh_needs_the_second_factor_the_login_would_now_need(world, settings):
    settings.JINSHAO_2FA_ENFORCED = True
    settings.JINSHAO_2FA_ROLES = []
    phone = login(world.staff_a)  # no code asked: staff need none yet
    settings.JINSHAO_2FA_ROLES = ["staff"]  # now they do
    answer = refresh(phone.refresh_token)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "second_factor_required"


def test_one_refresh_token_is_spent_once_when_two_requests_interleave(world, monkeypatch):
    """Both requests pass the "is it blacklisted?" check before either blacklists it
    (what concurrent requests do): still only one gets a new pair."""
    phone = login(world.staff_a)
    monkeypatch.setattr(BlacklistMixin, "check_blacklist", lambda token: None)
    first, second = refresh(phone.refresh_token), refresh(phone.refresh_token)
    assert sorted([first.status_code, second.status_code]) == [200, 401]
    assert BlacklistedToken.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_refresh_token_sent_ten_times_at_once_succeeds_once(world, monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"login": "10000/min", "writes": "10000/min"}
    )
    token = login(world.staff_a).refresh_token
    start = threading.Barrier(10)
    codes: list[int] = []
    lock = threading.Lock()

    def spend() -> None:
        from django.db import connections

        try:
            start.wait()
            code = refresh(token).status_code
            with lock:
                codes.append(code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=spend) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200] + [401] * 9


def test_tokens_without_the_bindings_are_refused(world):
    """Tokens minted as before (no password stamp, no refresh id) must log in again."""
    from rest_framework_simplejwt.tokens import RefreshToken

    old = RefreshToken.for_user(world.staff_a)
    phone = APIClient()
    phone.credentials(HTTP_AUTHORIZATION=f"Bearer {old.access_token}")
    assert phone.get(reverse("api:me")).status_code == 401
    answer = refresh(str(old))
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "login_ended"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_refused_token_is_told_in_one_plain_sentence(world, language):
    """A spent refresh token, a damaged one and a damaged access token each get one
    sentence in the asker's language, not the token library's inner structure."""
    phone = login(world.staff_a)
    assert refresh(phone.refresh_token).status_code == 200  # spends it
    url = reverse("api:token-refresh")
    answers = [
        APIClient().post(
            url, {"refresh": phone.refresh_token}, format="json", HTTP_ACCEPT_LANGUAGE=language
        ),
        APIClient().post(url, {"refresh": "garbage"}, format="json", HTTP_ACCEPT_LANGUAGE=language),
        APIClient(HTTP_AUTHORIZATION="Bearer garbage").get(
            reverse("api:me"), HTTP_ACCEPT_LANGUAGE=language
        ),
    ]
    for answer in answers:
        assert answer.status_code == 401
        message = answer.json()["error"]["message"]
        assert "ErrorDetail" not in message and "{" not in message, message
        assert ("登录" in message) == (language == "zh-hans"), message


# ------------------------------------------------------------------ the second factor


def test_resetting_a_lost_authenticator_ends_the_stolen_phones_tokens(world, settings):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts import twofactor
    from accounts.choices import Role
    from tests.factories import PASSWORD, UserFactory, authenticator_code, grant

    settings.JINSHAO_2FA_ENFORCED = True
    settings.JINSHAO_2FA_ROLES = ["staff"]
    device = twofactor.pending_device(world.staff_a)
    codes = twofactor.confirm(world.staff_a, device, authenticator_code(device))
    pair = APIClient(REMOTE_ADDR="10.4.4.4").post(
        reverse("api:token"),
        {"username": "staff_a", "password": PASSWORD, "otp": codes[0]},
        format="json",
    )
    assert pair.status_code == 200, pair.content
    phone = APIClient()
    phone.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.data['access']}")
    phone.refresh_token = pair.data["refresh"]  # type: ignore[attr-defined]
    assert phone.get(reverse("api:me")).status_code == 200  # (a refresh here would spend it)

    secadmin = UserFactory(username="anquan_y", name="安全员", is_staff=True)
    grant(secadmin, Role.SECADMIN)
    browser = Client()
    browser.force_login(secadmin)
    settings.JINSHAO_2FA_ENFORCED = False  # (the security administrator's own code: not the point)
    totp = TOTPDevice.objects.get(user=world.staff_a, confirmed=True)
    answer = browser.post(
        reverse("admin:otp_totp_totpdevice_delete", args=[totp.pk]), {"post": "yes"}
    )
    assert answer.status_code == 302, answer.status_code
    assert not TOTPDevice.objects.filter(user=world.staff_a).exists()
    settings.JINSHAO_2FA_ENFORCED = True
    assert phone.get(reverse("api:me")).status_code == 401
    assert refresh(phone.refresh_token).status_code == 401


def test_an_access_token_from_before_the_second_factor_was_needed_stops(world, settings):
    from accounts.choices import Role
    from tests.factories import grant

    settings.JINSHAO_2FA_ENFORCED = True
    settings.JINSHAO_2FA_ROLES = ["leader"]
    phone = login(world.stranger)  # no role: no code asked
    assert phone.get(reverse("api:me")).status_code == 200
    grant(world.stranger, Role.LEADER, area=world.town)  # now it needs one
    me = phone.get(reverse("api:me"))
    ticket = phone.post(reverse("api:ws-ticket"))
    assert (me.status_code, ticket.status_code) == (401, 401)
    assert me.json()["error"]["code"] == "second_factor_required"


def test_tokens_kept_whole_before_lose_their_signature_in_the_migration(world):
    import importlib

    from django.apps import apps
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    migration = importlib.import_module("accounts.migrations.0006_outstanding_tokens_unsigned")
    phone = login(world.staff_a)
    row = OutstandingToken.objects.get(user=world.staff_a)
    row.token = phone.refresh_token  # as main stored it until now
    row.save(update_fields=["token"])
    migration.drop_signatures(apps, None)
    row.refresh_from_db()
    header_and_claims, signature = phone.refresh_token.rsplit(".", 1)
    assert row.token == header_and_claims and signature not in row.token
    assert still_works(phone)  # the phone itself keeps its login
