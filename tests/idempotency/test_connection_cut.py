"""The connection cut between the server's commit and the phone receiving the answer.

The phone's outbox sends, hears nothing, and sends again with the same key. First
with the test client (the first answer is thrown away unread), then through a real
uvicorn server and raw sockets: the client closes the socket right after sending,
or once the effect is committed but before reading a byte of the answer, and retries.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import struct
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from accounts.api.tokens import token_pair
from cases.models import Case
from chat.models import Attachment, Message
from idempotency.models import IdempotentRequest
from tests.api.client import as_user
from tests.chat.conftest import png_bytes

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 20  # seconds: every socket and wait is bounded by this


def raise_body(world) -> dict:
    return {
        "community": world.community.pk,
        "title": "河道漂浮物",
        "template": world.template.pk,
        "answers": {"stall_count": 1, "goods": "其他"},
        "invitees": [{"department": world.dept_a.pk, "person": world.staff_a.pk}],
        "submit": True,
    }


@pytest.mark.django_db
def test_a_case_and_its_photos_sent_twice_after_lost_answers_arrive_once(
    world, case_in, settings, tmp_path
):
    """The outbox raises a case and uploads two photos; every first answer is lost."""
    settings.MEDIA_ROOT = tmp_path / "media"
    phone = as_user(world.official)
    case_key = str(uuid.uuid4())
    phone.post(
        reverse("api:case-list"), raise_body(world), format="json", HTTP_IDEMPOTENCY_KEY=case_key
    )  # committed; the answer never reaches the phone
    assert Case.objects.count() == 1

    retried = phone.post(
        reverse("api:case-list"), raise_body(world), format="json", HTTP_IDEMPOTENCY_KEY=case_key
    )
    assert retried.status_code == 201 and retried["Idempotent-Replayed"] == "true"
    case = Case.objects.get()
    assert retried.json()["id"] == case.pk and retried.json()["state"] == "pending_review"

    # The room of a case in progress; two photos, each sent, its answer lost, sent again.
    live = case_in("in_progress", invite=("staff_a",))
    url = reverse("api:case-messages", args=[live.pk])
    photos = {str(uuid.uuid4()): png_bytes(colour=(10 * i, 80, 160)) for i in range(2)}
    answers = {}
    for key, data in photos.items():
        for _attempt in range(2):  # a new file object, and a new multipart boundary, each time
            body = {"kind": "image", "file": SimpleUploadedFile("photo.png", data)}
            answers[key] = phone.post(url, body, format="multipart", HTTP_IDEMPOTENCY_KEY=key)
        assert answers[key].status_code == 201 and answers[key]["Idempotent-Replayed"] == "true"
    assert Message.objects.filter(case=live, kind="image").count() == 2
    assert Attachment.objects.filter(case=live).count() == 2
    assert len({a.json()["id"] for a in answers.values()}) == 2
    assert Case.objects.count() == 2


# ------------------------------------------------------------------ a real server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(port: int, media: Path):
    """uvicorn serving the test database (PostgreSQL) in a process of its own."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "MEDIA_ROOT": str(media),
        "JINSHAO_SERVE_STATIC": "false",
        "JINSHAO_INPROCESS_SCHEDULER": "false",
        "JINSHAO_2FA_ENFORCED": "false",  # as in the test process (tests/conftest.py)
    }
    env.pop("REDIS_URL", None)  # the in-memory channel layer, tasks in-process
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application"]
        + ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            assert process.poll() is None, "the server process died"
            time.sleep(0.1)
        else:
            raise AssertionError("the server did not start")
        yield
    finally:
        process.terminate()
        process.wait(TIMEOUT)


def access_token(user) -> str:
    """A login's access token, made here (the server checks it against the same database)."""
    return token_pair(user, second_factor=False)["access"]


def raw_request(path: str, token: str, key: str, body: bytes, content_type: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        f"Idempotency-Key: {key}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def send_and_hang_up(port: int, request: bytes, *, until=None) -> None:
    """Send the whole request and close the socket unread: at once, or with a reset once
    ``until()`` returns (the answer, on its way, is lost)."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        if until is not None:
            until()
            # SO_LINGER 0: close with a reset, dropping whatever the server sent.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def send(port: int, request: bytes) -> tuple[int, dict, dict]:
    """Send and read the whole answer: status, headers and JSON body."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        answer = http.client.HTTPResponse(sock)
        answer.begin()
        body = json.loads(answer.read())
        return answer.status, dict(answer.getheaders()), body


def committed(key: str) -> None:
    """Until the server has committed the request with ``key`` (bounded)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if IdempotentRequest.objects.filter(key=key, response_status__isnull=False).exists():
            return
        time.sleep(0.05)  # polling an observed state, not a guess at timing
    raise AssertionError("the first request never committed")


def multipart(fields: dict, file_name: str, data: bytes) -> tuple[bytes, str]:
    """A multipart body with a fresh boundary each time (as a new send would have)."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        "Content-Type: image/png\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    return b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_through_uvicorn_a_retry_after_a_cut_connection_makes_nothing_new(world, case_in, tmp_path):
    port = free_port()
    live = case_in("in_progress", invite=("staff_a",))
    with serving(port, tmp_path / "media"):
        token = access_token(world.official)
        body = json.dumps(raise_body(world)).encode()

        # 1. Cut once the case is committed, before a byte of the answer is read.
        key = str(uuid.uuid4())
        request = raw_request("/api/v1/cases/", token, key, body, "application/json")
        send_and_hang_up(port, request, until=lambda: committed(key))
        assert Case.objects.exclude(pk=live.pk).count() == 1
        status, headers, answer = send(port, request)
        assert status == 201 and headers.get("Idempotent-Replayed") == "true"
        raised = Case.objects.exclude(pk=live.pk).get()
        assert answer["id"] == raised.pk

        # 2. Cut right after sending (the server may or may not have begun), then retry.
        key = str(uuid.uuid4())
        request = raw_request("/api/v1/cases/", token, key, body, "application/json")
        send_and_hang_up(port, request)
        status, headers, answer = send(port, request)
        assert status in (201, 409), answer  # 409: the first still runs; the phone retries
        if status == 409:
            assert answer["error"]["code"] == "idempotency_key_in_progress"
            committed(key)
            status, headers, answer = send(port, request)
        assert status == 201
        assert Case.objects.exclude(pk=live.pk).count() == 2
        assert Case.objects.filter(pk=answer["id"]).exists()

        # 3. A photo: cut right after sending, retried with another multipart boundary.
        key = str(uuid.uuid4())
        photo = png_bytes(colour=(0, 120, 60))
        url = f"/api/v1/cases/{live.pk}/messages/"
        first_body, first_type = multipart({"kind": "image", "text": "现场"}, "site.png", photo)
        send_and_hang_up(port, raw_request(url, token, key, first_body, first_type))
        again_body, again_type = multipart({"kind": "image", "text": "现场"}, "site.png", photo)
        assert again_body != first_body
        status, headers, answer = send(port, raw_request(url, token, key, again_body, again_type))
        if status == 409:
            assert answer["error"]["code"] == "idempotency_key_in_progress"
            committed(key)
            status, headers, answer = send(
                port, raw_request(url, token, key, again_body, again_type)
            )
        assert status == 201, answer
        assert Message.objects.filter(case=live, kind="image").count() == 1
        assert answer["id"] == Message.objects.get(case=live, kind="image").pk
