"""/health/live and /health/ready: what probes see, and what only trusted callers see."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from datetime import timedelta

import pytest
from django.core.files.storage import FileSystemStorage
from django.utils import timezone

from core import health
from integrations.models import ExternalSystem, OutboundMessage
from tests.conftest import make_case

PUBLIC = {"REMOTE_ADDR": "1.2.3.4"}


@pytest.fixture(autouse=True)
def _fresh_answer():
    """Each test computes its own answer (one process keeps it 1-2 s otherwise)."""
    health.forget()
    yield
    health.forget()


@pytest.fixture(autouse=True)
def _sweep_just_ran():
    """A healthy setup's sweep has just run. Without a heartbeat the lag counts from the
    process's start, so on a busy machine these tests went red ("sweep") once the suite
    had run past the limit (JINSHAO_READY_SWEEP_LAG_SECONDS) before reaching them. The
    sweep's own tests set the heartbeat they need."""
    from django.core.cache import cache

    cache.set(health.SWEEP_HEARTBEAT_KEY, time.time(), timeout=None)


class BrokenStorage(FileSystemStorage):
    """A media store that cannot be reached."""

    def exists(self, name):
        raise OSError("storage.internal.example: connection refused")


@pytest.mark.django_db
def test_live_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live", **PUBLIC)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_live_answers_a_probe_on_the_loopback_address_whatever_the_public_host(client, settings):
    """Docker's healthcheck asks http://127.0.0.1/...; ALLOWED_HOSTS names the district."""
    assert "127.0.0.1" in settings.ALLOWED_HOSTS  # added by the health settings
    response = client.get("/health/live", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200


def test_probes_are_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/health/live").status_code == 200
    assert client.get("/api/v1/").status_code == 301  # everything else still is


@pytest.mark.django_db
def test_ready_is_green_on_a_healthy_setup(client):
    response = client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) >= {"database", "migrations", "outbox", "sweep", "audit", "storage"}
    assert all(check["ok"] for check in body["checks"].values())


def _failing(client, **extra) -> set[str]:
    response = client.get("/health/ready", **extra)
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    return {name for name, check in response.json()["checks"].items() if not check["ok"]}


@pytest.mark.django_db
def test_ready_is_red_when_a_migration_is_not_applied(client, monkeypatch):
    leaves = dict(health.migration_leaves())
    leaves[("cases", "9999_not_yet_applied")] = ()
    monkeypatch.setattr(health, "migration_leaves", lambda: leaves)
    assert _failing(client) == {"migrations"}


@pytest.mark.django_db
def test_ready_is_red_when_the_outbox_has_an_old_pending_message(client, world, settings):
    settings.JINSHAO_READY_OUTBOX_LAG_SECONDS = 600
    system = ExternalSystem.objects.create(
        code="city", name="城运平台", callback_url="https://platform.example/cb"
    )
    OutboundMessage.objects.create(
        system=system,
        case=make_case(world),
        payload={},
        created_at=timezone.now() - timedelta(hours=2),
    )
    assert _failing(client) == {"outbox"}
    lag = client.get("/health/ready").json()["checks"]["outbox"]["lag_seconds"]
    assert lag >= 7200


@pytest.mark.django_db
def test_ready_is_red_when_the_sweep_has_not_run_for_too_long(client, settings):
    settings.JINSHAO_READY_SWEEP_LAG_SECONDS = 600
    from django.core.cache import cache

    cache.set(health.SWEEP_HEARTBEAT_KEY, time.time() - 3600, timeout=None)
    assert _failing(client) == {"sweep"}


@pytest.mark.django_db
def test_the_sweep_task_records_its_heartbeat(client, settings):
    from django.core.cache import cache

    from cases.tasks import sweep_deadlines

    settings.JINSHAO_READY_SWEEP_LAG_SECONDS = 600
    cache.set(health.SWEEP_HEARTBEAT_KEY, time.time() - 3600, timeout=None)
    sweep_deadlines.apply(throw=True)
    assert client.get("/health/ready").status_code == 200


@pytest.mark.django_db
def test_ready_is_red_when_the_storage_raises(client, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "tests.core.test_health.BrokenStorage"},
    }
    assert _failing(client) == {"storage"}


class HangingStorage(FileSystemStorage):
    """A media store that never answers (until the test ends)."""

    released = threading.Event()

    def exists(self, name):
        self.released.wait()
        return False


@pytest.mark.django_db
def test_a_storage_that_never_answers_fails_its_check_instead_of_the_probe(client, settings):
    settings.JINSHAO_HEALTH_TIMEOUT_SECONDS = 0.05
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "tests.core.test_health.HangingStorage"},
    }
    try:
        assert _failing(client) == {"storage"}
    finally:
        HangingStorage.released.set()


@pytest.mark.django_db
def test_one_process_reuses_its_answer_for_a_while(client, settings, django_assert_num_queries):
    settings.JINSHAO_HEALTH_CACHE_SECONDS = 3600
    assert client.get("/health/ready").status_code == 200
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "tests.core.test_health.BrokenStorage"},
    }
    with django_assert_num_queries(0):
        assert client.get("/health/ready").status_code == 200  # the kept answer
    health.forget()
    assert client.get("/health/ready").status_code == 503


@pytest.mark.django_db
def test_ready_is_red_when_the_audit_head_does_not_verify(client):
    from audit.models import ChainHead

    ChainHead.objects.filter(pk=1).update(sequence=99)  # moved without the key
    assert _failing(client) == {"audit"}


@pytest.mark.django_db
def test_ready_is_red_while_an_audit_record_waits_past_the_bound(client, settings, monkeypatch):
    from audit import services as audit

    settings.JINSHAO_AUDIT_PENDING_MAX_SECONDS = 10
    past = timezone.now() - timedelta(seconds=30)
    with monkeypatch.context() as patched:
        patched.setattr(timezone, "now", lambda: past)
        audit.record("test.stuck")  # the sequencer has not run for 30 s
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert not response.json()["checks"]["audit_queue"]["ok"]
    assert response.json()["checks"]["audit_queue"]["lag_seconds"] >= 30
    assert audit.sequence_pending() >= 1
    health.forget()
    assert client.get("/health/ready").status_code == 200


@pytest.mark.django_db
def test_public_callers_see_no_details(client, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "tests.core.test_health.BrokenStorage"},
    }
    response = client.get("/health/ready", **PUBLIC)
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    assert b"storage" not in response.content


@pytest.mark.django_db
def test_a_forwarded_request_is_not_trusted_for_the_proxys_loopback_address(client):
    """A proxy on the same host makes every public caller 127.0.0.1 by REMOTE_ADDR."""
    response = client.get("/health/ready", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_a_public_address_in_the_allowed_list_is_still_not_trusted(client, settings):
    settings.JINSHAO_HEALTH_ALLOWED_ADDRESSES = ["0.0.0.0/0"]
    assert client.get("/health/ready", **PUBLIC).json() == {"status": "ok"}
    settings.JINSHAO_HEALTH_ALLOWED_ADDRESSES = ["10.0.0.0/8"]
    trusted = client.get("/health/ready", REMOTE_ADDR="10.1.2.3").json()
    assert trusted["checks"]["database"] == {"ok": True}


@pytest.mark.django_db
def test_the_health_token_shows_details_and_a_wrong_one_does_not(client, settings):
    settings.JINSHAO_HEALTH_TOKEN = "probe-token-from-the-operator"
    right = client.get(
        "/health/ready", HTTP_X_HEALTH_TOKEN="probe-token-from-the-operator", **PUBLIC
    )
    assert right.json()["checks"]["database"] == {"ok": True}
    wrong = client.get("/health/ready", HTTP_X_HEALTH_TOKEN="probe-token-guessed", **PUBLIC)
    assert wrong.json() == {"status": "ok"}


@pytest.mark.django_db
def test_details_name_checks_but_no_host_or_error_text(client, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "tests.core.test_health.BrokenStorage"},
    }
    response = client.get("/health/ready")
    assert response.json()["checks"]["storage"] == {"ok": False}
    assert b"internal.example" not in response.content
    assert b"refused" not in response.content


# With a Redis of its own: the test stops and starts it, never the shared one.


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_redis(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):  # until it accepts connections
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.05)
    server.kill()
    raise RuntimeError("the private redis-server did not start")


def _stop(server: subprocess.Popen) -> None:
    server.kill()
    server.wait()


@pytest.mark.redis
@pytest.mark.django_db
def test_ready_follows_redis_going_away_and_coming_back(client, settings):
    port = _free_port()
    location = f"redis://127.0.0.1:{port}/0"
    server = _start_redis(port)
    before = (settings.REDIS_URL, settings.CACHES, settings.CHANNEL_LAYERS)
    try:
        settings.REDIS_URL = location
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": location,
            }
        }
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [location], "prefix": "health-test"},
            }
        }
        green = client.get("/health/ready")
        assert green.status_code == 200
        assert green.json()["checks"]["redis"] == {"ok": True}
        assert green.json()["checks"]["channel_layer"] == {"ok": True}

        _stop(server)
        health.forget()
        assert {"redis", "channel_layer"} <= _failing(client)

        server = _start_redis(port)
        health.forget()
        again = client.get("/health/ready")
        assert again.status_code == 200, again.json()
    finally:  # back to the test cache before this Redis goes for good
        settings.REDIS_URL, settings.CACHES, settings.CHANNEL_LAYERS = before
        _stop(server)
