"""Two requests with one Idempotency-Key at once, on PostgreSQL: one effect, always.

Each request runs in its own thread with its own database connection, through the
whole API (authentication, view, service). Where the order matters, the first
request is held inside its service by an event until the second is seen waiting in
``pg_stat_activity``; every wait has a timeout.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import pytest
from django.db import connection, connections
from django.urls import reverse

from cases import services
from cases.models import Case
from core.errors import ValidationFailed
from idempotency.models import IdempotentRequest
from tests.api.client import as_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
TIMEOUT = 20  # seconds: any wait longer than this is a hang
ROUNDS = 5


def raise_body(world, title: str = "路灯不亮") -> dict:
    return {
        "community": world.community.pk,
        "title": title,
        "template": world.template.pk,
        "answers": {"stall_count": 3, "goods": "果蔬"},
        "invitees": [{"department": world.dept_a.pk, "person": world.staff_a.pk}],
    }


class Phone(threading.Thread):
    """Sends one request in a thread of its own; ``answer`` is the response (or the error)."""

    def __init__(self, send: Callable[[], object], start_together: threading.Barrier | None):
        super().__init__(daemon=True)
        self.send, self.start_together = send, start_together
        self.answer: object = None

    def run(self) -> None:
        try:
            if self.start_together is not None:
                self.start_together.wait(timeout=TIMEOUT)
            self.answer = self.send()
        except Exception as exc:  # noqa: BLE001 - asserted on by the test
            self.answer = exc
        finally:
            connections.close_all()

    def result(self):
        self.join(timeout=TIMEOUT)
        assert not self.is_alive(), "the request hung"
        return self.answer


def raise_case(world, key: str, body: dict | None = None) -> Callable[[], object]:
    client = as_user(world.official)
    url = reverse("api:case-list")
    data = body or raise_body(world)
    return lambda: client.post(url, data, format="json", HTTP_IDEMPOTENCY_KEY=key)


class Gate:
    """Holds the first call of ``cases.services.create_case`` until opened."""

    def __init__(self, monkeypatch, *, fail: bool = False) -> None:
        self.entered, self.opened = threading.Event(), threading.Event()
        real = services.create_case
        calls = []

        def held(**kwargs):
            calls.append(1)
            if len(calls) == 1:
                self.entered.set()
                assert self.opened.wait(TIMEOUT), "never opened"
                if fail:
                    raise ValidationFailed("refused for the test", fields={"title": ["x"]})
            return real(**kwargs)

        monkeypatch.setattr(services, "create_case", held)


def wait_until_one_waits_on_a_lock() -> None:
    """Until another connection of this database waits on a lock (bounded)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)  # polling an observed state, not a guess at timing
    raise AssertionError("the second request never waited for the first")


def test_released_together_they_make_one_case_and_the_same_answer(world):
    for _ in range(ROUNDS):
        key = str(uuid.uuid4())
        together = threading.Barrier(2)
        phones = [Phone(raise_case(world, key), together) for _ in range(2)]
        for phone in phones:
            phone.start()
        answers = [phone.result() for phone in phones]
        assert [a.status_code for a in answers] == [201, 201], answers
        assert answers[0].json() == answers[1].json()
        assert sorted(a.get("Idempotent-Replayed", "") for a in answers) == ["", "true"]
        assert Case.objects.filter(pk=answers[0].json()["id"]).exists()
    assert Case.objects.count() == ROUNDS
    assert IdempotentRequest.objects.count() == ROUNDS


def test_a_duplicate_waits_for_the_first_and_gets_its_answer(world, monkeypatch):
    gate = Gate(monkeypatch)
    first = Phone(raise_case(world, "k"), None)
    first.start()
    assert gate.entered.wait(TIMEOUT)
    second = Phone(raise_case(world, "k"), None)
    second.start()
    wait_until_one_waits_on_a_lock()  # held on the first's uncommitted key row
    assert Case.objects.count() == 0
    gate.opened.set()

    one, two = first.result(), second.result()
    assert one.status_code == two.status_code == 201
    assert two["Idempotent-Replayed"] == "true" and two.json() == one.json()
    assert Case.objects.count() == 1


def test_when_the_first_is_refused_the_waiting_duplicate_runs(world, monkeypatch):
    gate = Gate(monkeypatch, fail=True)
    first = Phone(raise_case(world, "k"), None)
    first.start()
    assert gate.entered.wait(TIMEOUT)
    second = Phone(raise_case(world, "k"), None)
    second.start()
    wait_until_one_waits_on_a_lock()
    gate.opened.set()

    one, two = first.result(), second.result()
    assert one.status_code == 400 and two.status_code == 201, (one, two)
    assert "Idempotent-Replayed" not in two
    assert Case.objects.count() == 1
    assert IdempotentRequest.objects.get().response_status == 201


def test_past_the_wait_a_duplicate_is_409_in_progress_and_nothing_is_doubled(
    world, monkeypatch, settings
):
    settings.JINSHAO_IDEMPOTENCY_WAIT_SECONDS = 0.3
    gate = Gate(monkeypatch)
    first = Phone(raise_case(world, "k"), None)
    first.start()
    assert gate.entered.wait(TIMEOUT)
    second = Phone(raise_case(world, "k"), None)
    second.start()
    two = second.result()  # gives up after 0.3 s while the first is still held
    assert two.status_code == 409, two.content
    assert two.json()["error"]["code"] == "idempotency_key_in_progress"
    gate.opened.set()
    assert first.result().status_code == 201
    assert Case.objects.count() == 1

    third = raise_case(world, "k")()  # later, the kept answer
    assert third.status_code == 201 and third["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == 1


def test_a_duplicate_with_another_body_waits_then_is_409(world, monkeypatch):
    gate = Gate(monkeypatch)
    first = Phone(raise_case(world, "k"), None)
    first.start()
    assert gate.entered.wait(TIMEOUT)
    second = Phone(raise_case(world, "k", raise_body(world, "另一件事")), None)
    second.start()
    wait_until_one_waits_on_a_lock()
    gate.opened.set()
    assert first.result().status_code == 201
    two = second.result()
    assert two.status_code == 409 and two.json()["error"]["code"] == "idempotency_key_reused"
    assert Case.objects.count() == 1


def test_the_wait_does_not_outlive_the_key_row(world, monkeypatch, settings):
    """The bounded wait applies to the key's row only: the view's own locks keep the
    database's setting (lock_timeout is restored after the reservation)."""
    settings.JINSHAO_IDEMPOTENCY_WAIT_SECONDS = 0.3
    seen = []
    real = services.create_case

    def spy(**kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('lock_timeout')")
            seen.append(cursor.fetchone()[0])
        return real(**kwargs)

    monkeypatch.setattr(services, "create_case", spy)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout')")
        default = cursor.fetchone()[0]
    assert raise_case(world, "k")().status_code == 201
    assert seen == [default]
