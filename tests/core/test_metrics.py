"""GET /metrics: what an operator's Prometheus reads, and who may read it (core.metrics)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from celery import shared_task
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from cases import services as case_services
from chat import services as chat_services
from core.health import SWEEP_HEARTBEAT_KEY
from tests.chat.conftest import close_db_threads, next_of, open_socket  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "docs" / "grafana-dashboard.json"

Samples = dict[tuple[str, frozenset], float]


def scrape(client: Client | None = None, **headers) -> Samples:
    """Every sample of /metrics, keyed by (sample name, labels)."""
    answer = (client or Client()).get("/metrics", **headers)
    assert answer.status_code == 200, answer.status_code
    assert answer["Content-Type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(answer.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@shared_task(name="tests.metrics.always_fails")
def always_fails() -> None:
    raise RuntimeError("boom")


# ------------------------------------------------------------------ who may scrape


@pytest.mark.django_db
def test_a_stranger_gets_a_404_and_loopback_or_the_token_get_the_text(settings):
    settings.JINSHAO_METRICS_TOKEN = "scrape-secret-1234"
    stranger = Client(REMOTE_ADDR="203.0.113.7")
    assert stranger.get("/metrics").status_code == 404
    wrong = stranger.get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token")
    assert wrong.status_code == 404
    assert b"jinshao_" not in wrong.content

    assert scrape(stranger, HTTP_AUTHORIZATION="Bearer scrape-secret-1234")
    assert scrape(Client(REMOTE_ADDR="127.0.0.1"))


@pytest.mark.django_db
def test_allowed_networks_and_no_token_configured(settings):
    settings.JINSHAO_METRICS_ALLOWED_ADDRESSES = ["10.20.0.0/16"]
    settings.JINSHAO_METRICS_TOKEN = ""
    assert Client(REMOTE_ADDR="10.20.3.4").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 404
    # An empty token never opens the door, not even to an empty bearer.
    assert (
        Client(REMOTE_ADDR="10.30.0.1").get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code
        == 404
    )


# ------------------------------------------------------------------ requests


@pytest.mark.django_db
def test_requests_are_counted_by_route_pattern_not_by_path(world, case_in):
    case = case_in("dispatched")
    phone = APIClient()
    phone.force_authenticate(world.official)
    before = scrape()
    for _ in range(2):
        assert phone.get(reverse("api:case-detail", kwargs={"pk": case.pk})).status_code == 200
    assert phone.get(reverse("api:case-detail", kwargs={"pk": 999999})).status_code == 404
    after = scrape()

    route = "api/v1/cases/<pk>/"
    assert (
        delta(before, after, "jinshao_http_requests_total", method="GET", route=route, status="200")
        == 2
    )
    assert (
        delta(before, after, "jinshao_http_requests_total", method="GET", route=route, status="404")
        == 1
    )
    count = "jinshao_http_request_duration_seconds_count"
    assert delta(before, after, count, method="GET", route=route) == 3
    assert (
        delta(
            before,
            after,
            "jinshao_http_request_duration_seconds_bucket",
            method="GET",
            route=route,
            le="+Inf",
        )
        == 3
    )
    routes = {dict(labels).get("route") for _name, labels in after}
    assert not any(f"cases/{case.pk}/" in r or "999999" in r for r in routes if r)


@pytest.mark.django_db
def test_server_errors_are_counted_per_route(world, monkeypatch):
    from accounts.api import views as account_views

    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(account_views.MeView, "get", broken)
    phone = APIClient(raise_request_exception=False)
    phone.force_authenticate(world.official)
    before = scrape()
    assert phone.get(reverse("api:me")).status_code == 500
    after = scrape()
    assert delta(before, after, "jinshao_http_errors_total", method="GET", route="api/v1/me/") == 1
    assert (
        delta(
            before,
            after,
            "jinshao_http_requests_total",
            method="GET",
            route="api/v1/me/",
            status="500",
        )
        == 1
    )


@pytest.mark.django_db
def test_an_unknown_path_is_one_unmatched_series():
    """Paths matching nothing (here under /media/, outside the phone app's routes) share one
    series: a scanner cannot grow the metrics."""
    before = scrape()
    Client().get("/media/no/such/place/12345")
    Client().get("/media/no/such/place/67890")
    after = scrape()
    assert (
        delta(
            before,
            after,
            "jinshao_http_requests_total",
            method="GET",
            route="<unmatched>",
            status="404",
        )
        == 2
    )


# ------------------------------------------------------------------ domain events


@pytest.mark.django_db
def test_case_transitions_and_chat_messages_are_counted_once_committed(
    world, case_in, django_capture_on_commit_callbacks
):
    case = case_in("draft")
    before = scrape()
    with django_capture_on_commit_callbacks(execute=True):
        case_services.submit_case(case, actor=world.official)
    middle = scrape()
    assert delta(before, middle, "jinshao_case_transitions_total", kind="submitted") == 1
    assert delta(before, middle, "jinshao_case_transitions_total", kind="approved") == 0

    busy = case_in("in_progress", invite=("staff_a",))
    before = scrape()
    with django_capture_on_commit_callbacks(execute=True):
        chat_services.post_text(busy, sender=world.official, text="请尽快到现场", client_id="m-1")
        chat_services.post_text(busy, sender=world.staff_a, text="已出发", client_id="m-2")
    after = scrape()
    assert delta(before, after, "jinshao_chat_messages_total", kind="text") == 2


@pytest.mark.django_db
def test_failed_logins_and_a_lock_out_are_counted(world):
    attacker = APIClient(REMOTE_ADDR="10.9.9.9")
    before = scrape()
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        attacker.post(
            reverse("api:token"),
            {"username": "staff_a", "password": "Guess-Pass-2024"},
            format="json",
        )
    after = scrape()
    assert (
        delta(before, after, "jinshao_login_failures_total") == django_settings.AXES_FAILURE_LIMIT
    )
    assert delta(before, after, "jinshao_lockouts_total") == 1


@pytest.mark.django_db
def test_a_failed_task_is_counted_by_name():
    before = scrape()
    # Run eagerly as the worker would (a propagated error skips Celery's failure signal).
    result = always_fails.apply(throw=False)
    assert result.failed()
    after = scrape()
    assert (
        delta(
            before, after, "jinshao_celery_task_failures_total", task="tests.metrics.always_fails"
        )
        == 1
    )


# ------------------------------------------------------------------ read when scraped


@pytest.mark.django_db
def test_outbox_backlog_and_age_and_sweep_lag_are_read_at_scrape_time(world, case_in):
    from integrations.choices import OutboundState
    from integrations.models import ExternalSystem, OutboundMessage

    empty = scrape()
    assert value(empty, "jinshao_outbox_pending") == 0
    assert value(empty, "jinshao_outbox_oldest_pending_age_seconds") == 0
    assert value(empty, "jinshao_sweep_lag_seconds") >= 0

    case = case_in("dispatched")
    system = ExternalSystem.objects.create(code="city", name="市平台")
    now = timezone.now()
    for minutes, state in (
        (90, OutboundState.PENDING),
        (5, OutboundState.PENDING),
        (300, OutboundState.DELIVERED),
    ):
        OutboundMessage.objects.create(
            system=system,
            case=case,
            state=state,
            created_at=now - timedelta(minutes=minutes),
            payload={},
        )
    cache.set(SWEEP_HEARTBEAT_KEY, time.time() - 20 * 60)  # the sweep last ran 20 min ago
    after = scrape()
    assert value(after, "jinshao_outbox_pending") == 2
    assert 90 * 60 <= value(after, "jinshao_outbox_oldest_pending_age_seconds") < 100 * 60
    assert 20 * 60 <= value(after, "jinshao_sweep_lag_seconds") < 30 * 60


@pytest.mark.django_db
def test_audit_records_awaiting_the_sequencer_and_the_oldest_age_are_read_at_scrape_time(
    monkeypatch,
):
    from audit import services as audit

    audit.sequence_pending()
    empty = scrape()
    assert value(empty, "jinshao_audit_pending") == 0
    assert value(empty, "jinshao_audit_oldest_pending_age_seconds") == 0
    past = timezone.now() - timedelta(seconds=90)
    with monkeypatch.context() as patched:
        patched.setattr(timezone, "now", lambda: past)
        audit.record("test.waiting")
    audit.record("test.fresh")
    after = scrape()
    assert value(after, "jinshao_audit_pending") == 2
    assert 90 <= value(after, "jinshao_audit_oldest_pending_age_seconds") < 150


@pytest.mark.django_db
def test_no_queue_length_without_a_redis_broker(settings):
    settings.CELERY_BROKER_URL = "memory://"
    assert not any(name == "jinshao_celery_queue_length" for name, _labels in scrape())


@pytest.mark.redis
@pytest.mark.django_db
def test_the_celery_queue_length_is_the_redis_list_length(settings):
    import redis

    queue = f"metrics-test-{uuid.uuid4().hex}"
    settings.CELERY_BROKER_URL = os.environ["REDIS_URL"]
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        client.rpush(queue, "a", "b", "c")
        assert value(scrape(), "jinshao_celery_queue_length", queue=queue) == 3
    finally:
        client.delete(queue)
        client.close()


# ------------------------------------------------------------------ sockets


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_threads")
async def test_open_sockets_by_kind_and_socket_messages(world, case_in):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    get = database_sync_to_async(scrape)
    before = await get()
    room, _hello = await open_socket(f"/ws/cases/{case.pk}/", world.official)
    bell, _hello = await open_socket("/ws/notifications/", world.staff_a)
    opened = await get()
    assert delta(before, opened, "jinshao_open_sockets", kind="room") == 1
    assert delta(before, opened, "jinshao_open_sockets", kind="notifications") == 1

    await room.send_json_to({"type": "message", "text": "到了吗", "client_id": "s-1"})
    await next_of(room, "ack")
    await room.disconnect()
    await bell.disconnect()
    closed = await get()
    assert delta(before, closed, "jinshao_open_sockets", kind="room") == 0
    assert delta(before, closed, "jinshao_open_sockets", kind="notifications") == 0
    assert delta(before, closed, "jinshao_chat_messages_total", kind="text") == 1


# ------------------------------------------------------------------ several processes


COUNT_IN_A_PROCESS = (
    "import os; from core import metrics; "
    "metrics.LOGIN_FAILURES.inc(); metrics.OPEN_SOCKETS.labels('room').inc(); "
    "print(os.getpid())"
)


@pytest.mark.django_db
def test_multiprocess_mode_adds_up_every_process(tmp_path, monkeypatch):
    """Two worker processes write to PROMETHEUS_MULTIPROC_DIR; /metrics adds them up,
    and a process marked dead no longer counts its open sockets."""
    from prometheus_client.multiprocess import mark_process_dead

    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    pids = [
        subprocess.run(
            [sys.executable, "-c", COUNT_IN_A_PROCESS],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        for _ in range(2)
    ]
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    both = scrape()
    assert value(both, "jinshao_login_failures_total") == 2
    assert value(both, "jinshao_open_sockets", kind="room") == 2
    assert value(both, "jinshao_outbox_pending") == 0  # read at scrape time, still there

    mark_process_dead(int(pids[0]), str(directory))
    one = scrape()
    assert value(one, "jinshao_open_sockets", kind="room") == 1
    assert value(one, "jinshao_login_failures_total") == 2  # counters outlive their process


# ------------------------------------------------------------------ the dashboard


def exported_metric_names() -> set[str]:
    from core import metrics

    names = set()
    for attribute in vars(metrics).values():
        describe = getattr(attribute, "describe", None)
        if callable(describe) and hasattr(attribute, "_name"):
            for family in describe():
                names.update(sample.name for sample in family.samples)
                names.add(family.name)
                if family.type == "counter":
                    names.add(family.name + "_total")
                if family.type == "histogram":
                    names.update(family.name + s for s in ("_bucket", "_count", "_sum"))
    names.update(
        {
            "jinshao_outbox_pending",
            "jinshao_outbox_oldest_pending_age_seconds",
            "jinshao_sweep_lag_seconds",
            "jinshao_celery_queue_length",
        }
    )
    return names


@pytest.mark.django_db
def test_the_dashboard_plots_only_metrics_the_app_exports():
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    panels = [p for p in dashboard["panels"] if p.get("type") != "row"]
    exported = exported_metric_names()
    # Every scrape-time metric is really in the text.
    text_names = {name for name, _labels in scrape()}
    assert {"jinshao_outbox_pending", "jinshao_sweep_lag_seconds"} <= text_names
    used = set()
    for panel in panels:
        assert re.search(r"[\u4e00-\u9fff]", panel["title"]), panel["title"]
        assert panel.get("description"), panel["title"]
        for target in panel["targets"]:
            names = set(re.findall(r"\bjinshao_[a-z_]+", target["expr"]))
            assert names, target["expr"]
            assert names <= exported, names - exported
            used |= names
    for family in (
        "jinshao_http_requests_total",
        "jinshao_http_request_duration_seconds_bucket",
        "jinshao_http_errors_total",
        "jinshao_case_transitions_total",
        "jinshao_open_sockets",
        "jinshao_chat_messages_total",
        "jinshao_outbox_pending",
        "jinshao_outbox_oldest_pending_age_seconds",
        "jinshao_sweep_lag_seconds",
        "jinshao_celery_queue_length",
        "jinshao_celery_task_failures_total",
        "jinshao_login_failures_total",
        "jinshao_lockouts_total",
    ):
        assert family in used, family
    expressions = " ".join(t["expr"] for p in panels for t in p["targets"])
    for quantile in ("0.5", "0.9", "0.99"):
        assert f"histogram_quantile({quantile}" in expressions
