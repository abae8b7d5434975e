"""Schemathesis over the published OpenAPI schema (/api/schema/).

Every operation of the schema is called with data generated from it, valid
(positive) and invalid (negative), by a village official who has cases in
every state: once with the ids the fuzzer makes up, and once with the ids of
real objects of hers, so that the answers with content are checked too. Every
answer must be what the schema says: never a 5xx, a documented status code,
content type and headers, a body that fits its schema, and invalid input
refused (Schemathesis' checks, two of them adjusted below). Bounded and
derandomised, so the suite stays fast and a failure reproduces.

The operations are driven through Schemathesis' Hypothesis strategies in one
test (one database, one log-in) rather than through its pytest plugin, whose
``from_fixture`` loader does not run on this pytest (it sets ``Node._nodeid``).
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.throttling import SimpleRateThrottle
from schemathesis import GenerationMode, checks
from schemathesis.core.parameters import ParameterLocation

from cases.models import Case, Invitation
from notifications.models import Notification
from tests.api.client import login

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 8
FUZZ = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure reproduces
    database=None,
    suppress_health_check=list(HealthCheck),
)
checks.load_all_checks()


def negative_body_and_path_rejection(ctx, response, case):
    """``negative_data_rejection`` where a body or a path was made invalid.

    Query strings are read leniently on purpose, as web forms send them: the
    last of a repeated key wins, an empty filter is no filter, and a page size
    that is not a number falls back to the default. Bodies and paths are strict.
    """
    meta = case.meta
    if meta is None or not (
        meta.is_negative_at(ParameterLocation.BODY) or meta.is_negative_at(ParameterLocation.PATH)
    ):
        return None
    return checks.negative_data_rejection(ctx, response, case)


#: Checks adjusted, and why.
EXCLUDED = [
    # Replaced by negative_body_and_path_rejection above.
    checks.negative_data_rejection,
    # Valid by the schema is not acceptable by the rules: an unknown refresh token,
    # a wrong current password, a community not hers, an id of nothing are refused
    # with 400, and the schema cannot say which ids exist (each refusal is tested
    # in tests/api and tests/accounts).
    checks.positive_data_acceptance,
]


@pytest.fixture
def no_throttles(monkeypatch):
    """Throttles have their own tests; here they would only answer 429 to the fuzzer.

    DRF binds the rates to the throttle class at import: the attribute is patched.
    """
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"login": "100000/min", "writes": "100000/min"}
    )


@contextmanager
def connection_kept():
    """The fuzzer calls the WSGI application itself, whose end of each request would close
    the test's database connection (it is inside the test's transaction); Django's test
    client disconnects that around its own requests, and so does this."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def operations():
    from config.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    for result in schema.get_all_operations():
        yield without_idempotency_keys(json_bodies_only(result.ok()))


def without_idempotency_keys(operation):
    """No made-up ``Idempotency-Key``: the fuzzer repeats its examples' values, so a key
    would make later examples replays of earlier ones, or 409s for another body (the
    header has its own tests in tests/idempotency)."""
    operation.headers.items = [h for h in operation.headers if h.name != "Idempotency-Key"]
    return operation


def real_ids(world) -> dict[str, list[int]]:
    """Path prefix → ids of real objects the official may see there."""
    cases = list(Case.objects.filter(caller=world.official).values_list("pk", flat=True))
    return {
        "/api/v1/cases/": cases,
        "/api/v1/invitations/": list(
            Invitation.objects.filter(case__in=cases).values_list("pk", flat=True)
        ),
        "/api/v1/notifications/": list(
            Notification.objects.filter(recipient=world.official).values_list("pk", flat=True)
        ),
        "/api/v1/templates/": [world.template.pk],
        "/api/v1/departments/": [world.dept_a.pk, world.dept_b.pk],
    }


def with_real_ids(operation, ids: dict[str, list[int]]) -> list[dict]:
    """Path parameters naming real objects, or none when the path names none of ours."""
    names = [p.name for p in operation.path_parameters]
    if len(names) != 1:
        return []
    prefix = next((p for p in ids if operation.path.startswith(p + "{")), None)
    return [{names[0]: pk} for pk in ids.get(prefix, [])]


def has_input(operation, *, path: bool = True) -> bool:
    """Whether there is anything to make invalid (no parameters and no body: nothing)."""
    parts = (operation.path_parameters if path else (), operation.query, operation.body)
    return any(len(part) for part in parts)


def json_bodies_only(operation):
    """Bodies as the phone sends them, JSON, where the operation takes it: a form
    encoding cannot carry the invalid shapes meant (an array becomes an empty form)."""
    json = [body for body in operation.body if body.media_type == "application/json"]
    if json:
        operation.body.items = json
    return operation


def runs_of(operation, bearer: dict[str, str], ids: dict[str, list[int]]):
    """(label, strategy) for each way of calling ``operation``: valid and invalid data,
    with made-up ids and with real ones."""
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        if mode == GenerationMode.NEGATIVE and not has_input(operation):
            continue
        # The token is a fixed header, so it is never fuzzed itself.
        yield f"{mode.value}", operation.as_strategy(mode, headers=bearer)
        real = [
            operation.as_strategy(mode, headers=bearer, path_parameters=path)
            for path in with_real_ids(operation, ids)
            if mode == GenerationMode.POSITIVE or has_input(operation, path=False)
        ]
        if real:
            yield f"{mode.value}, real ids", st.one_of(real)


def test_every_operation_answers_as_its_schema_says(world, case_in, no_throttles, subtests):
    for state in ("draft", "pending_review", "dispatched", "in_progress", "pending_rating"):
        case_in(state)
    bearer = {"Authorization": login(world.official)._credentials["HTTP_AUTHORIZATION"]}
    ids = real_ids(world)
    started, operations_seen, runs = time.monotonic(), 0, 0
    with connection_kept():
        for operation in operations():
            operations_seen += 1
            for label, strategy in runs_of(operation, bearer, ids):

                @FUZZ
                @given(case=strategy)
                def call(case):
                    case.call_and_validate(
                        excluded_checks=EXCLUDED,
                        additional_checks=[negative_body_and_path_rejection],
                    )

                runs += 1
                with subtests.test(f"{operation.label} ({label})"):
                    call()
    print(f"{operations_seen} operations, {runs} runs in {time.monotonic() - started:.1f} s")
    assert operations_seen >= 40


# What the fuzzer found, pinned so it stays fixed.


def test_a_url_under_api_that_matches_nothing_is_a_json_404(world, client):
    from tests.api.client import as_user

    answer = as_user(world.official).get("/api/v1/cases/null/")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
    # Outside /api/ a server path that matches nothing is a 404 page; any other path is
    # the phone app's own route (core.app_shell), whose router shows its not-found screen.
    page = client.get("/assets/no-such-file.js")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_an_id_no_database_can_hold_is_refused_not_a_crash(world, case_in):
    from tests.api.client import as_user

    case = case_in("dispatched")
    phone = as_user(world.official)
    huge = "3.888936801521604e+22"
    listed = phone.get("/api/v1/cases/", {"category": huge})
    assert listed.status_code == 400 and "category" in listed.json()["error"]["fields"]
    assert phone.get("/api/v1/templates/", {"category": str(2**70)}).status_code == 400
    assert phone.get("/api/v1/departments/", {"community": huge}).status_code == 400
    # A case's own pages are found by id alone: the case list's filters do not apply.
    events = phone.get(f"/api/v1/cases/{case.pk}/events/", {"category": huge, "state": "draft"})
    assert events.status_code == 200 and isinstance(events.json(), list)


def test_any_username_is_a_refusal_never_a_crash(world):
    from django.urls import reverse
    from rest_framework.test import APIClient

    for username in ("external systems", "tab\there", "x" * 300):
        answer = APIClient().post(
            reverse("api:token"), {"username": username, "password": "nope"}, format="json"
        )
        assert answer.status_code in (400, 401), (username, answer.status_code)
