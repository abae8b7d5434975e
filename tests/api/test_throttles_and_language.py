"""Throttles on login and writes; messages in the request's language; fixed query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from cases import services
from core.api.throttles import LoginIPThrottle, LoginUsernameThrottle, WriteThrottle
from tests.api.client import as_user, case_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight_rates(monkeypatch):
    rates = {"login": "3/min", "writes": "3/min"}
    for throttle in (LoginIPThrottle, LoginUsernameThrottle, WriteThrottle):
        monkeypatch.setattr(throttle, "THROTTLE_RATES", rates)


def attempt(username: str, ip: str):
    return APIClient(REMOTE_ADDR=ip).post(
        reverse("api:token"), {"username": username, "password": "wrong"}, format="json"
    )


def test_logins_are_throttled_per_ip(world, tight_rates):
    for name in ("a", "b", "c"):
        assert attempt(name, "10.0.0.1").status_code == 401
    refused = attempt("official", "10.0.0.1")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "throttled"
    assert attempt("official", "10.0.0.2").status_code == 401  # another phone is not blocked


def test_logins_are_throttled_per_username(world, tight_rates):
    for n in range(3):
        assert attempt("official", f"10.0.1.{n}").status_code == 401
    assert attempt("OFFICIAL", "10.0.1.9").status_code == 429  # from anywhere, any case
    assert attempt("commander", "10.0.1.9").status_code == 401


def test_a_login_body_that_is_not_an_object_is_a_400(world):
    response = APIClient().post(reverse("api:token"), [1, 2], format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


def test_writes_are_throttled_per_person_reads_are_not(world, case_in, tight_rates):
    case = case_in("draft")
    client = as_user(world.official)
    for n in range(3):
        assert client.patch(case_url(case), {"title": f"标题{n}"}, format="json").status_code == 200
    assert client.patch(case_url(case), {"title": "再改"}, format="json").status_code == 429
    assert client.get(case_url(case)).status_code == 200
    assert (
        as_user(world.commander)
        .patch(case_url(case), {"title": "指挥长改"}, format="json")
        .status_code
        == 200
    )


def test_messages_follow_the_requests_language(world, case_in):
    case = case_in("draft")
    client = as_user(world.official)
    zh = client.post(case_url(case, "complete"), {}, format="json").json()["error"]["message"]
    en = client.post(
        case_url(case, "complete"), {}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    ).json()["error"]["message"]
    assert "草稿" in zh
    assert en == f"Cannot complete case {case.number}: it is Draft."


@pytest.mark.parametrize("path", ["events", "invitations"])
def test_a_cases_lists_cost_the_same_however_long(world, case_in, path):
    """Two invitations or one, five more events or none: the same number of queries."""
    short, long = case_in("dispatched", invite=("staff_a",)), case_in("in_progress")
    for n in range(5):
        services.record_event(long, "edited", actor=world.commander, note=f"补充{n}")
    client = as_user(world.commander)
    counts = []
    for case in (short, long):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(case_url(case, path)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def attempt_via(username: str, remote: str, forwarded: str):
    return APIClient(REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded).post(
        reverse("api:token"), {"username": username, "password": "wrong"}, format="json"
    )


def test_a_made_up_forwarded_for_does_not_escape_the_login_throttle(world, tight_rates, settings):
    settings.JINSHAO_TRUSTED_PROXIES = 0  # no proxy of ours: the header is the client's word
    for n, name in enumerate(("a", "b", "c")):
        assert attempt_via(name, "10.0.3.1", f"198.51.100.{n}").status_code == 401
    refused = attempt_via("d", "10.0.3.1", "198.51.100.99")
    assert refused.status_code == 429


def test_behind_one_proxy_the_address_it_saw_counts(world, tight_rates, settings):
    settings.JINSHAO_TRUSTED_PROXIES = 1  # REMOTE_ADDR is our proxy; it appends what it saw
    for n, name in enumerate(("a", "b", "c")):  # the client varies its own part of the header
        assert attempt_via(name, "10.0.0.254", f"198.51.100.{n}, 203.0.113.5").status_code == 401
    assert attempt_via("d", "10.0.0.254", "198.51.100.9, 203.0.113.5").status_code == 429
    # Another client behind the same proxy is another address.
    assert attempt_via("e", "10.0.0.254", "203.0.113.6").status_code == 401


def test_the_throttle_the_lock_out_and_the_audit_log_see_one_address(world, settings):
    from axes.models import AccessAttempt, AccessFailureLog

    from audit.models import AuditRecord

    settings.JINSHAO_TRUSTED_PROXIES = 1
    assert attempt_via("official", "10.0.0.254", "198.51.100.7, 203.0.113.5").status_code == 401
    assert AccessAttempt.objects.get().ip_address == "203.0.113.5"
    assert AccessFailureLog.objects.get().ip_address == "203.0.113.5"
    failed = AuditRecord.objects.get(action="auth.login_failed")
    assert failed.ip == "203.0.113.5"
    request = RequestFactory().post(
        "/", REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.5"
    )
    for throttle in (LoginIPThrottle, LoginUsernameThrottle, WriteThrottle):
        assert throttle().get_ident(request) == "203.0.113.5"
