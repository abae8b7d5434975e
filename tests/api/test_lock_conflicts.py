"""A transaction the database ends for a race (deadlock, serialization failure) is run once
more, and a second loss is a clean 409 in the API's error shape, never a 500 (issue 16)."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from cases import services
from tests.api.client import as_user, case_url

pytestmark = pytest.mark.django_db


class _DriverDeadlock(Exception):
    sqlstate = "40P01"  # as psycopg names PostgreSQL's "deadlock detected"


def _deadlock() -> OperationalError:
    error = OperationalError("deadlock detected")
    error.__cause__ = _DriverDeadlock()
    return error


def _losing(times: int, monkeypatch) -> list[int]:
    """``_run_transition`` loses ``times`` races before it runs; returns the calls made."""
    real, calls = services._run_transition, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) <= times:
            raise _deadlock()
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_run_transition", flaky)
    return calls


@pytest.mark.django_db(transaction=True)  # only an outermost transaction is run again
def test_a_race_lost_once_is_run_again_and_succeeds(world, case_in, monkeypatch):
    case = case_in("draft")
    calls = _losing(1, monkeypatch)
    response = as_user(world.official).post(case_url(case, "submit"), {}, format="json")
    assert response.status_code == 200, response.content
    assert response.data["state"] == "pending_review" and len(calls) == 2


def test_a_race_lost_twice_is_a_409_conflict(world, case_in, monkeypatch):
    case = case_in("draft")
    _losing(2, monkeypatch)
    response = as_user(world.official).post(case_url(case, "submit"), {}, format="json")
    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "conflict"
    case.refresh_from_db()
    assert case.state == "draft"


def test_other_database_errors_stay_server_errors(world, case_in, monkeypatch):
    case = case_in("draft")

    def broken(*args, **kwargs):
        raise OperationalError("disk full")

    monkeypatch.setattr(services, "_run_transition", broken)
    client = as_user(world.official)
    client.raise_request_exception = False
    assert client.post(case_url(case, "submit"), {}, format="json").status_code == 500
