"""Fifty wrong log-ins at once, for one account from one address, on PostgreSQL.

django-axes asks "is this account locked?" before the password is checked and
counts the failure after, so without serialising the two, every concurrent
attempt passes the question before any failure is counted. Each attempt here
runs in its own thread with its own database connection, released together by
a barrier. Skipped on SQLite, which has no concurrent writers; CI runs the
suite on PostgreSQL too.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import User
from tests.factories import PASSWORD

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]
ATTEMPTS = 50
HASHING_SECONDS = 0.5  # about what PBKDF2 with Django's default iterations takes
ADDRESS = "10.50.50.50"
WRONG = "wrong-Password-1"
WRONG_PASSWORD, LOCKED = "wrong password", "locked out"


@pytest.fixture
def verifications(monkeypatch) -> list[str]:
    """The usernames whose password was actually checked, one entry per check.

    Each check takes a little while, as the production hasher does (the tests'
    MD5 hasher is instant): the race lives in that time.
    """
    checked: list[str] = []
    lock = threading.Lock()
    original = User.check_password

    def check_password(user, raw_password):
        with lock:
            checked.append(user.username)
        time.sleep(HASHING_SECONDS)
        return original(user, raw_password)

    monkeypatch.setattr(User, "check_password", check_password)
    return checked


@pytest.fixture(autouse=True)
def _no_throttle(monkeypatch):
    """Throttles would refuse some of the fifty before the lock-out is reached.

    DRF's throttles read their rates from a class attribute bound at import,
    so overriding the setting is not enough: the attribute is patched.
    """
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"login": "10000/min", "writes": "10000/min"}
    )


def _phone(password: str) -> str:
    response = APIClient(REMOTE_ADDR=ADDRESS).post(
        reverse("api:token"), {"username": "official", "password": password}, format="json"
    )
    code = response.json().get("error", {}).get("code") if response.status_code >= 400 else None
    if (response.status_code, code) == (401, "authentication_failed"):
        return WRONG_PASSWORD
    if (response.status_code, code) == (403, "locked_out"):
        return LOCKED
    return f"unexpected: {response.status_code} {code}"


def _browser(password: str) -> str:
    response = Client(REMOTE_ADDR=ADDRESS).post(
        reverse("admin:login"), {"username": "official", "password": password}
    )
    if response.status_code == 200 and response.context["form"].errors:
        return WRONG_PASSWORD  # the form again, with its error
    if response.status_code == 403 and "30" in response.content.decode():
        return LOCKED  # accounts.lockout's message: try again in 30 minutes
    return f"unexpected: {response.status_code}"


def _all_at_once(attempt, password: str) -> list[str]:
    barrier = threading.Barrier(ATTEMPTS)
    answers = [""] * ATTEMPTS

    def worker(i: int) -> None:
        from django.db import connections

        try:
            barrier.wait()
            answers[i] = attempt(password)
        except Exception as exc:  # noqa: BLE001 - the answer is what we assert on
            answers[i] = f"unexpected: {exc!r}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(ATTEMPTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return answers


@pytest.mark.parametrize("attempt", [_phone, _browser], ids=["phone API", "admin form"])
def test_fifty_parallel_wrong_logins_verify_no_more_passwords_than_the_limit(
    world, verifications, attempt
):
    limit = settings.AXES_FAILURE_LIMIT
    answers = _all_at_once(attempt, WRONG)
    print(f"{len(verifications)} of {ATTEMPTS} parallel attempts verified a password")
    assert len(verifications) <= limit
    # The first limit - 1 are told the password is wrong; the one that reaches the
    # limit, and everyone after, is told the account is locked.
    assert answers.count(WRONG_PASSWORD) == limit - 1, answers
    assert answers.count(LOCKED) == ATTEMPTS - (limit - 1), answers
    verifications.clear()
    assert attempt(PASSWORD) == LOCKED  # even the right password, while locked
    assert verifications == []
