"""Many people living many cases at once on PostgreSQL, through the API (issue 16).

``LIVES`` threads, each with its own database connection, drive whole case lives at once —
raise with two invitees, submit, approve, both accept, complete, rate both — in the same
community, with the same departments, the same people and the same commander. Before the
lock order was fixed, ``_lock_invitation`` locked the invited person's and department's rows
``FOR UPDATE`` through its join, and the runs ended in PostgreSQL deadlocks answered with
HTTP 500. Every answer must now be a success (or, for a lost race, a clean 409 the client
retries); any 5xx fails the test. Every wait is bounded.
"""

from __future__ import annotations

import threading

import pytest
from django.urls import reverse

from tests.api.client import as_user, case_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8
LIVES = 2  # per thread
WAIT = 300  # seconds any thread may take for all its lives (a loaded 2-core machine)


def _post(client, url, data, answers: list) -> dict:
    """POST until it is not a 409 (a lost race is the client's to retry), at most 5 times."""
    for _ in range(5):
        response = client.post(url, data, format="json")
        answers.append((url, response.status_code))
        if response.status_code != 409:
            break
    assert response.status_code < 500, (url, response.status_code, response.content[:300])
    assert response.status_code in (200, 201), (url, response.status_code, response.content[:300])
    return response.data


def _live(world, answers: list) -> None:
    from cases.models import Invitation

    official, commander = as_user(world.official), as_user(world.commander)
    pairs = [(world.dept_a, world.staff_a), (world.dept_b, world.staff_b)]
    case = _post(
        official,
        reverse("api:case-list"),
        {
            "community": world.community.pk,
            "title": "同时办理",
            "template": world.template.pk,
            "invitees": [{"department": d.pk, "person": p.pk} for d, p in pairs],
        },
        answers,
    )

    class Ref:  # case_url takes anything with a pk
        pk = case["id"]

    _post(official, case_url(Ref, "submit"), {}, answers)
    _post(commander, case_url(Ref, "approve"), {}, answers)
    for invitation in Invitation.objects.filter(case_id=Ref.pk).select_related("person"):
        url = reverse("api:invitation-accept", args=[invitation.pk])
        _post(as_user(invitation.person), url, {}, answers)
    _post(official, case_url(Ref, "complete"), {}, answers)
    scores = {"result": 99, "conduct": 98}
    _post(
        official,
        case_url(Ref, "ratings"),
        {"ratings": [{"department": d.pk, "scores": scores} for d, _ in pairs]},
        answers,
    )


def test_eight_threads_living_cases_at_once_get_no_server_error(world):
    from django.db import connections

    from cases.models import Case

    barrier = threading.Barrier(THREADS, timeout=WAIT)
    answers: list[tuple[str, int]] = []
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(LIVES):
                _live(world, answers)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT)
    assert not any(thread.is_alive() for thread in threads), "a case life hung"
    assert not failures, failures[:3]
    assert not [a for a in answers if a[1] >= 500]
    assert Case.objects.filter(state="closed").count() == THREADS * LIVES
