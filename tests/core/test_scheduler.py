"""The embedded default chases deadlines with no extra service: the server process
runs the periodic jobs itself, ``manage.py supervise`` runs them on demand, and
a job that fails is recorded rather than lost."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import OperationalError, connections
from django.utils import timezone

from cases.models import Case, SupervisionStep
from core import scheduler
from core.models import FailedTask


def overdue_case(case_in) -> Case:
    case = case_in("dispatched")
    Case.objects.filter(pk=case.pk).update(response_deadline=timezone.now() - timedelta(minutes=1))
    return case


@pytest.mark.django_db
def test_supervise_runs_every_periodic_job_once(case_in, capsys):
    case = overdue_case(case_in)
    call_command("supervise")
    assert SupervisionStep.objects.filter(case=case, kind="response_reminder").count() == 1
    out = capsys.readouterr().out
    assert "cases.sweep_deadlines" in out and "integrations.flush_outbox" in out
    call_command("supervise")  # again: nothing twice
    assert SupervisionStep.objects.filter(case=case).count() == 1


@pytest.mark.django_db
def test_a_failing_job_is_recorded_and_the_scheduler_goes_on(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("cases.services.sweep_deadlines", broken)
    scheduler.run_job("cases.sweep_deadlines")  # does not raise
    failed = FailedTask.objects.get()
    assert failed.name == "cases.sweep_deadlines" and "database went away" in failed.error


@pytest.mark.django_db(transaction=True)
def test_the_server_process_starts_the_scheduler_with_its_lifespan(case_in, settings):
    """uvicorn's lifespan start-up starts the in-process scheduler; its first run sweeps."""
    from config.asgi import lifespan_application

    settings.JINSHAO_INPROCESS_SCHEDULER = True
    settings.JINSHAO_SCHEDULER_DELAY_SECONDS = 0
    case = overdue_case(case_in)
    sent: list[dict] = []
    startup, shutdown = asyncio.Event(), asyncio.Event()

    async def serve():
        messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

        async def receive():
            if messages[0]["type"] == "lifespan.shutdown":
                await shutdown.wait()  # the server runs until told to stop
            return messages.pop(0)

        async def send(message):
            sent.append(message)
            startup.set()

        await lifespan_application({"type": "lifespan"}, receive, send)

    async def run_server_then_stop():
        server = asyncio.create_task(serve())
        await startup.wait()
        found = await asyncio.to_thread(wait_for_step, case)
        shutdown.set()
        await server
        return found

    assert asyncio.run(run_server_then_stop())
    assert not scheduler._thread.is_alive()  # stopped with the server
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def wait_for_step(case, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            try:
                if SupervisionStep.objects.filter(case=case, kind="response_reminder").exists():
                    return True
            except OperationalError:  # the test's in-memory SQLite: the sweep holds the table
                pass
            time.sleep(0.2)
        return False
    finally:
        connections.close_all()  # this helper thread's connection


def test_the_scheduler_stays_off_when_celery_beat_runs(settings, monkeypatch):
    ran: list[bool] = []
    monkeypatch.setattr(scheduler, "run_forever", lambda stop: ran.append(True))
    monkeypatch.setattr(scheduler, "_thread", None)
    settings.JINSHAO_INPROCESS_SCHEDULER = True  # without Celery beat it does start...
    started = scheduler.start()
    assert started is not None
    started.join(5)
    assert ran == [True]
    monkeypatch.setattr(scheduler, "_thread", None)
    settings.JINSHAO_INPROCESS_SCHEDULER = False  # ...with it, it does not
    assert scheduler.start() is None
    assert ran == [True]
