"""A real Celery worker on Redis runs the deadline sweep and an outbound delivery, and a
task that fails for good is recorded (PostgreSQL and Redis, as in CI).

The worker is a separate process on the test database, listening on a queue
of its own, so nothing else in Redis reaches it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from cases.models import Case, SupervisionStep
from config.celery import app
from core.models import FailedTask
from integrations import services
from integrations.models import OutboundMessage
from tests.integrations.conftest import platform_case

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.redis,
]


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "JINSHAO_INPROCESS_SCHEDULER": "false",
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield queue
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        print(output[-4000:])  # shown when a test fails


def wait_for(check, seconds: float = 45) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.25)
    return False


def test_the_worker_sweeps_deadlines(world, case_in, worker):
    case = case_in("dispatched")
    Case.objects.filter(pk=case.pk).update(response_deadline=timezone.now() - timedelta(minutes=1))
    app.send_task("cases.sweep_deadlines", queue=worker)
    assert wait_for(lambda: SupervisionStep.objects.filter(case=case).exists())
    step = SupervisionStep.objects.get(case=case)
    assert step.kind == "response_reminder" and step.event is not None


def test_the_worker_delivers_an_outbound_status(world, platform, receiver, worker):
    receiver.up()
    platform.callback_url = receiver.url
    platform.save()
    services.take_in(platform, services.parse_platform_case(platform, platform_case()))
    message = OutboundMessage.objects.get()
    app.send_task("integrations.deliver_outbound", args=[message.pk], queue=worker)
    assert wait_for(lambda: OutboundMessage.objects.get(pk=message.pk).state == "delivered")
    assert [r["json"]["event"] for r in receiver.acknowledged] == ["created"]


def test_a_task_that_fails_for_good_is_recorded(worker):
    app.send_task("integrations.deliver_outbound", args=["not-a-message-id"], queue=worker)
    assert wait_for(lambda: FailedTask.objects.exists())
    failed = FailedTask.objects.get()
    assert failed.name == "integrations.deliver_outbound"
    assert failed.arguments == {"args": ["not-a-message-id"], "kwargs": {}}
