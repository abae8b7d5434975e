"""Logs an operator can read: one JSON line per request and per task, the request id
carried through services, on-commit pushes and Celery tasks, and no personal data."""

from __future__ import annotations

import io
import json
import logging
import runpy
from pathlib import Path

import pytest
from celery.signals import before_task_publish
from django.urls import reverse

from config.celery import app as celery_app
from core import logging as core_logging
from core import realtime, requestid
from tests.api.client import as_user
from tests.chat.conftest import close_db_threads  # noqa: F401 (a fixture)

ROOT = Path(__file__).resolve().parents[2]


@celery_app.task(name="tests.core.log_request_id")
def log_request_id() -> str | None:
    """A background job that logs a line and says which request id it ran under."""
    logging.getLogger("tests.job").info("job ran")
    return requestid.get()


@celery_app.task(name="tests.core.fail_with_a_phone")
def fail_with_a_phone() -> None:
    """A background job that fails, its error naming a phone number."""
    raise RuntimeError("no answer from 13812345678")


@pytest.fixture
def log_lines():
    """What the configured stdout handler (settings.LOGGING) writes, as parsed JSON lines."""
    import config.asgi  # noqa: F401 (its django.setup() configures logging anew: first)

    handler = next(
        h
        for h in logging.getLogger().handlers
        if isinstance(h.formatter, core_logging.JsonFormatter)
    )
    buffer = io.StringIO()
    old = handler.setStream(buffer)

    def lines() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines() if line]

    yield lines
    handler.setStream(old)


def request_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "jinshao.request"]


@pytest.mark.django_db
def test_a_request_logs_one_json_line_and_echoes_the_proxy_s_id(world, case_in, log_lines):
    case = case_in("in_progress", invite=("staff_a",))
    client = as_user(world.official)
    response = client.get(
        reverse("api:case-detail", args=[case.pk]) + "?secret=abc",
        HTTP_X_REQUEST_ID="req-42.a:b_c",
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-42.a:b_c"
    [line] = request_lines(log_lines())
    assert line["request_id"] == "req-42.a:b_c"
    assert line["method"] == "GET" and line["status"] == 200
    assert line["route"] == "api/v1/cases/<pk>/"  # the pattern, not the path with its id
    assert "secret" not in json.dumps(line)  # nor the query string
    assert line["user_id"] == world.official.pk and line["client"] == "10.1.2.3"
    assert isinstance(line["duration_ms"], int | float)
    assert world.official.username not in json.dumps(line, ensure_ascii=False)
    assert world.official.name not in json.dumps(line, ensure_ascii=False)


@pytest.mark.django_db
@pytest.mark.parametrize("sent", [None, "x" * 65, "bad id", "a;b", "ok\u4e2d"])
def test_a_missing_or_bad_id_is_replaced_by_a_fresh_one(client, sent, log_lines):
    headers = {} if sent is None else {"HTTP_X_REQUEST_ID": sent}
    response = client.get("/media/no-such-file-for-logging", **headers)
    rid = response["X-Request-ID"]
    assert rid != sent and len(rid) == 32 and int(rid, 16) >= 0
    [line] = request_lines(log_lines())
    assert line["request_id"] == rid and line["status"] == 404
    assert line["route"] is None and line["user_id"] is None


@pytest.mark.django_db(transaction=True)
def test_the_id_reaches_the_service_and_its_on_commit_push(world, case_in, monkeypatch, log_lines):
    case = case_in("in_progress", invite=("staff_a",))
    seen: list[str | None] = []

    class DownLayer:
        async def group_send(self, group, payload):
            seen.append(requestid.get())
            raise ConnectionError("redis is down")

    monkeypatch.setattr(realtime, "get_channel_layer", lambda: DownLayer())
    response = as_user(world.official).post(
        reverse("api:case-messages", args=[case.pk]),
        {"text": "请回电 13812345678"},
        format="json",
        HTTP_X_REQUEST_ID="chat-1",
    )
    assert response.status_code == 201
    assert seen and set(seen) == {"chat-1"}  # the push ran after the commit, in the request
    failed = [line for line in log_lines() if line["logger"] == "core.realtime"]
    assert failed and all(line["request_id"] == "chat-1" for line in failed)
    everything = json.dumps(log_lines(), ensure_ascii=False)
    assert "13812345678" not in everything
    assert requestid.get() is None  # nothing leaks past the request


def test_publishing_a_task_puts_the_id_in_its_headers_and_the_worker_restores_it(log_lines):
    headers: dict = {}
    with requestid.bound("from-view-7"):
        before_task_publish.send(
            sender=log_request_id.name, body=((), {}, {}), headers=headers, properties={}
        )
    assert headers[requestid.TASK_HEADER] == "from-view-7"
    assert requestid.get() is None
    # As a worker runs it: no id of its own, the one in the message's headers.
    result = log_request_id.apply(headers=headers)
    assert result.get() == "from-view-7"
    assert requestid.get() is None  # cleared after the task
    lines = log_lines()
    [job] = [line for line in lines if line["logger"] == "tests.job"]
    assert job["request_id"] == "from-view-7"
    [task] = [line for line in lines if line["logger"] == "jinshao.task"]
    assert task["task"] == "tests.core.log_request_id" and task["state"] == "SUCCESS"
    assert task["request_id"] == "from-view-7" and task["task_id"] == result.id
    assert isinstance(task["duration_ms"], int | float)


def test_a_task_sent_by_the_broker_carries_the_id():
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False  # really sent, to the configured broker
    try:
        with requestid.bound("sent-9"), celery_app.connection_for_write() as conn:
            log_request_id.apply_async(connection=conn, queue="tests-logging")
            with conn.SimpleQueue("tests-logging") as queue:
                message = queue.get(timeout=2)
                message.ack()
    finally:
        celery_app.conf.task_always_eager = was_eager
    assert message.headers[requestid.TASK_HEADER] == "sent-9"


def test_a_task_without_an_id_gets_its_own(log_lines):
    first = log_request_id.apply().get()
    second = log_request_id.apply().get()
    assert first and second and first != second
    assert requestid.get() is None


def test_phones_passwords_and_tokens_are_masked(log_lines):
    logger = logging.getLogger("jinshao.anything")
    logger.warning(
        "call %s or 0571-88886666, login password=Hunter2! token: abc.def Bearer eyJhbGc",
        "+86 138-1234-5678",
        extra={"ticket": "t-123", "detail": {"phone": "13912345678", "api_key": "k"}},
    )
    [line] = log_lines()
    text = json.dumps(line)
    for secret in ("1234-5678", "88886666", "Hunter2", "abc.def", "eyJhbGc", "t-123"):
        assert secret not in text
    assert "5678" in line["message"] and "[redacted]" in line["message"]
    assert line["ticket"] == "[redacted]"
    assert line["detail"] == {"phone": "[redacted]", "api_key": "[redacted]"}


def test_ids_and_timestamps_are_not_taken_for_phones():
    text = "case FX202611300001 at 2026-11-30 12:00:00, id 3f1a13812345678ab, 13812345"
    assert core_logging.redact_text(text) == text


@pytest.mark.django_db
def test_lock_out_lines_are_json_without_the_username(client, world, log_lines):
    for _ in range(2):
        client.post(
            reverse("admin:login"),
            {"username": world.official.username, "password": "wrong-password-1"},
        )
    axes = [line for line in log_lines() if line["logger"].startswith("axes")]
    assert any("login failure" in line["message"] for line in axes)
    assert world.official.username not in json.dumps(axes)
    assert "wrong-password-1" not in json.dumps(log_lines())


def _settings_with(monkeypatch, **environ) -> list[dict]:
    import sentry_sdk

    calls: list[dict] = []
    monkeypatch.setattr(sentry_sdk, "init", lambda **kwargs: calls.append(kwargs))
    for name in ("SENTRY_DSN", "SENTRY_ENVIRONMENT", "SENTRY_RELEASE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    runpy.run_path(str(ROOT / "config" / "settings.py"))
    return calls


def test_sentry_starts_only_with_a_dsn_and_sends_no_personal_data(monkeypatch):
    assert _settings_with(monkeypatch) == []
    [call] = _settings_with(
        monkeypatch,
        SENTRY_DSN="https://public@glitchtip.example/1",
        SENTRY_ENVIRONMENT="district-test",
        SENTRY_RELEASE="1.2.3",
    )
    assert call["dsn"] == "https://public@glitchtip.example/1"
    assert call["send_default_pii"] is False
    assert call["environment"] == "district-test" and call["release"] == "1.2.3"
    assert call["traces_sample_rate"] == 0
    assert call["before_send"] is core_logging.before_send
    names = {type(i).__name__ for i in call["integrations"]}
    assert names == {"DjangoIntegration", "CeleryIntegration"}


def test_before_send_redacts_the_event():
    event = {
        "message": "no answer from 13812345678",
        "exception": {"values": [{"value": "password=Hunter2! rejected"}]},
        "request": {
            "url": "https://x/api/v1/cases/1/",
            "data": {"text": "王小明 13812345678"},
            "cookies": {"sessionid": "s"},
            "query_string": "ticket=abc",
            "headers": {"Authorization": "Bearer abc", "User-Agent": "phone"},
        },
        "extra": {"token": "abc", "count": 3},
    }
    with requestid.bound("err-1"):
        sent = core_logging.before_send(event, {})
    text = json.dumps(sent, ensure_ascii=False)
    for secret in ("13812345678", "Hunter2", "王小明", "sessionid", "ticket=abc", "Bearer abc"):
        assert secret not in text
    assert sent["request"]["headers"]["User-Agent"] == "phone"
    assert sent["extra"] == {"token": "[redacted]", "count": 3}
    assert sent["tags"]["request_id"] == "err-1"


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_threads")
async def test_each_socket_logs_under_its_own_id(world, case_in, settings, log_lines):
    from channels.db import database_sync_to_async

    from tests.chat.conftest import open_socket
    from tests.chat.test_outage import FlakyLayer

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.chat.test_outage.FlakyLayer"}}
    FlakyLayer.down = True  # so each socket logs that it could not join its groups
    try:
        case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
        room = f"/ws/cases/{case.pk}/"
        caller, _ = await open_socket(room, world.official, headers=[(b"x-request-id", b"ws-a")])
        staff, _ = await open_socket(room, world.staff_a, headers=[(b"x-request-id", b"ws b")])
        await caller.disconnect()
        await staff.disconnect()
    finally:
        FlakyLayer.down = False
    ids = {line["request_id"] for line in log_lines() if line["logger"] == "core.sockets"}
    assert "ws-a" in ids  # the proxy's id for the first connection
    assert len(ids) == 2 and None not in ids  # the second's bad id replaced by its own
    assert requestid.get() is None


def test_uvicorn_s_lines_are_json_and_scrubbed_and_its_access_line_is_dropped(log_lines):
    logging.getLogger("uvicorn.error").info(
        '%s - "WebSocket %s" [accepted]',
        "10.0.0.9:5000",
        "/ws/cases/7/?ticket=abc123",
        extra={"color_message": '%s - "WebSocket \x1b[1m%s\x1b[0m" [accepted]'},
    )
    logging.getLogger("uvicorn.access").info('"GET /api/v1/cases/7/?ticket=abc123" 200')
    [line] = log_lines()
    assert line["logger"] == "uvicorn.error" and "ticket=[redacted]" in line["message"]
    assert "color_message" not in line  # uvicorn's terminal colours stay out
    assert "abc123" not in json.dumps(log_lines())


def test_the_demo_s_text_lines_keep_the_fields():
    record = logging.makeLogRecord(
        {"name": "jinshao.request", "msg": "request", "levelname": "INFO", "route": "a/<pk>/"}
    )
    with requestid.bound("demo-1"):
        core_logging.RequestIdFilter().filter(record)
        text = core_logging.TextFormatter().format(record)
    assert "[demo-1] request route=a/<pk>/" in text
    outside = logging.makeLogRecord({"name": "x", "msg": "started", "levelname": "INFO"})
    core_logging.RequestIdFilter().filter(outside)
    assert "INFO x [-] started" in core_logging.TextFormatter().format(outside)
    assert (
        core_logging.logging_config(log_format="text", level="INFO")["formatters"]["main"]["()"]
        is core_logging.TextFormatter
    )
    with pytest.raises(ValueError):
        core_logging.logging_config(log_format="xml", level="INFO")


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_asgi_server_s_requests_are_logged_the_same(log_lines):
    from django.test import AsyncClient

    response = await AsyncClient().get(
        "/media/no-such-file-for-logging", headers={"X-Request-ID": "async-1"}
    )
    assert response.status_code == 404 and response["X-Request-ID"] == "async-1"
    [line] = request_lines(log_lines())
    assert line["request_id"] == "async-1" and line["status"] == 404
    assert requestid.get() is None


def test_a_failed_task_logs_its_failure_without_the_phone(log_lines):
    with pytest.raises(RuntimeError):
        fail_with_a_phone.apply(throw=True)
    [task] = [line for line in log_lines() if line["logger"] == "jinshao.task"]
    assert task["task"] == "tests.core.fail_with_a_phone" and task["state"] == "FAILURE"
    assert "13812345678" not in json.dumps(log_lines())
    assert requestid.get() is None
