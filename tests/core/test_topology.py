"""The topology as ``bin/topology`` starts it survives a killed worker and a rolling restart.

Runs where CI has PostgreSQL and Redis: ``bin/topology`` starts two uvicorn web
workers, a Celery worker and beat against the test database. The caller talks
on worker 1 and the staff on worker 2, as a proxy would have spread them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import websockets
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from accounts.models import User
from cases import services as case_services
from cases.models import Case
from chat.models import Attachment, Message
from config.celery import app
from integrations import services as integration_services
from integrations.models import AreaMapping, CategoryMapping, ExternalSystem, OutboundMessage
from tests.chat.test_two_processes import frame_of, free_port, server_env, text_arrives
from tests.factories import PASSWORD
from tests.integrations.conftest import SECRET, Receiver, platform_case

ROOT = Path(__file__).resolve().parents[2]
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.redis,
]


def two_free_ports() -> int:
    """A base port whose next port is free too (web-1 and web-2)."""
    while True:
        base = free_port()
        with contextlib.suppress(OSError), socket.socket() as probe:
            probe.bind(("127.0.0.1", base + 1))
            return base


class Topology:
    def __init__(self, directory: Path, web: int, extra: dict[str, str]) -> None:
        self.dir = directory
        self.base = two_free_ports()
        self.ports = (self.base, self.base + 1)
        self.env = {
            **server_env(settings.REDIS_URL),
            "JINSHAO_2FA_ENFORCED": "false",
            "MEDIA_ROOT": str(directory / "media"),
            "TOPOLOGY_DIR": str(directory),
            "TOPOLOGY_WEB": str(web),
            "TOPOLOGY_PORT_BASE": str(self.base),
            "TOPOLOGY_GRACE": "10",
            "TOPOLOGY_WORKER_ARGS": "--concurrency 1 --without-mingle --without-gossip",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "TOPOLOGY_PYTHON": sys.executable,
            **extra,
        }

    def run(self, command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(ROOT / "bin" / "topology"), command],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def pid(self, name: str) -> int:
        return int((self.dir / f"{name}.pid").read_text())

    def kill(self, name: str) -> None:
        """SIGKILL a process (its whole group): no grace, as when a node dies."""
        pid = self.pid(name)
        os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)

    def kill_all(self) -> None:
        for pid_file in self.dir.glob("*.pid"):
            with contextlib.suppress(ValueError, OSError):
                os.killpg(int(pid_file.read_text()), signal.SIGKILL)


@contextlib.contextmanager
def topology(directory: Path, web: int = 2, **extra: str):
    topo = Topology(directory, web, extra)
    # Tasks other tests queued on this broker and nobody ran are not this topology's work.
    app.control.purge()
    try:
        started = topo.run("start")
        assert started.returncode == 0, started.stderr
        yield topo
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired):
            topo.run("stop")
        topo.kill_all()


def wait_until(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.25)
    return False


def token(port: int, username: str) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/auth/token/",
        data=json.dumps({"username": username, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())["access"]


class Phone:
    """One person's phone talking to one web worker through the public API."""

    def __init__(self, port: int, username: str) -> None:
        self.port = port
        self.access = token(port, username)

    def call(self, path: str, body: dict | None = None, *, port: int | None = None) -> dict:
        status, answer = post(
            port or self.port,
            f"/api/v1/{path}",
            self.access,
            json.dumps(body or {}).encode(),
            "application/json",
        )
        assert 200 <= status < 300, answer
        return answer

    def room(self, case_pk: int, port: int | None = None) -> str:
        """A socket URL with a fresh (single-use) ticket, on this phone's worker or ``port``."""
        ticket = self.call("ws-ticket/", port=port)["ticket"]
        return f"ws://127.0.0.1:{port or self.port}/ws/cases/{case_pk}/?ticket={ticket}"


def multipart(fields: dict[str, str], file: bytes, name: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + file
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def post(port: int, path: str, access: str, body: bytes, content_type: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=body,
        headers={"Content-Type": content_type, "Authorization": f"Bearer {access}"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, json.loads(answer.read())


def half_an_upload(port: int, path: str, access: str, body: bytes, content_type: str):
    """An upload whose body is only half sent (the phone is still sending it)."""
    wire = socket.create_connection(("127.0.0.1", port), 5)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {access}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    wire.sendall(head + body[: len(body) // 2])
    return wire


async def closed_with(ws) -> int | None:
    """Read until the server closes the socket; its close code."""
    with contextlib.suppress(websockets.ConnectionClosed):
        async with asyncio.timeout(30):
            while True:
                await ws.recv()
    return ws.close_code


def send(ws, text: str, client_id: str):
    return ws.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))


def test_a_case_lives_across_workers_through_a_kill_and_a_rolling_restart(world, tmp_path):
    # The servers hash with the production hasher, not the tests' fast one.
    User.objects.filter(pk__in=[world.official.pk, world.commander.pk, world.staff_a.pk]).update(
        password=PBKDF2PasswordHasher().encode(PASSWORD, "saltsaltsalt")
    )
    with topology(tmp_path) as topo:
        one, two = topo.ports
        assert topo.run("status").returncode == 0
        # The caller's phone reached worker 1, the staff's and the commander's worker 2.
        official, commander = Phone(one, "official"), Phone(two, "commander")
        staff_phone = Phone(two, "staff_a")
        raised = official.call(
            "cases/",
            {
                "community": world.community.pk,
                "title": "菜场门口占道经营",
                "template": world.template.pk,
                "answers": {"stall_count": 3, "goods": "果蔬"},
                "address": "菜场门口",
                "invitees": [{"department": world.dept_a.pk, "person": world.staff_a.pk}],
                "submit": True,
            },
        )
        assert raised["state"] == "pending_review"
        assert commander.call(f"cases/{raised['id']}/approve/")["state"] == "dispatched"
        invitation = Case.objects.get(pk=raised["id"]).invitations.get(person=world.staff_a)
        assert staff_phone.call(f"invitations/{invitation.pk}/accept/")["state"] == "accepted"
        case = Case.objects.get(pk=raised["id"])
        assert case.state == "in_progress"

        messages = f"/api/v1/cases/{case.pk}/messages/"
        access = official.access
        upload, upload_type = multipart({"kind": "file", "client_id": "up-1"}, PDF, "r.pdf")
        caller_url, staff_url, caller_again_url = (
            official.room(case.pk),
            staff_phone.room(case.pk),
            official.room(case.pk, port=two),  # once worker 1 is gone
        )

        async def kill_mid_chat_and_upload() -> None:
            caller = await websockets.connect(caller_url)
            async with websockets.connect(staff_url) as staff:
                await frame_of(caller, "hello")
                await frame_of(staff, "hello")
                await send(caller, "一号上说", "k1")
                await text_arrives(staff, "一号上说")
                await send(staff, "二号上回", "k2")
                seen = (await text_arrives(caller, "二号上回"))["id"]
                await send(caller, "断前发的", "k3")
                await frame_of(caller, "ack")
                wire = half_an_upload(one, messages, access, upload, upload_type)
                await send(caller, "断时发的", "k4")  # its ack may never come
                topo.kill("web-1")
                wire.close()
                await closed_with(caller)
                # The phone reconnects elsewhere, catches up, and resends what it holds unacked.
                async with websockets.connect(caller_again_url) as again:
                    await frame_of(again, "hello")
                    await again.send(json.dumps({"type": "resume", "after": seen}))
                    history = await frame_of(again, "history")
                    got = {m["client_id"] for m in history["messages"]}
                    assert "k3" in got
                    for text, client_id in [("断前发的", "k3"), ("断时发的", "k4")]:
                        await send(again, text, client_id)
                        await frame_of(again, "ack")
                    await text_arrives(staff, "断时发的")

        asyncio.run(kill_mid_chat_and_upload())
        first = post(two, messages, access, upload, upload_type)
        again = post(two, messages, access, upload, upload_type)
        assert (first[0], again[0]) == (201, 200)
        assert first[1]["id"] == again[1]["id"]

        started = topo.run("start")  # brings back only what is down: web-1
        assert started.returncode == 0, started.stderr
        assert topo.run("status").returncode == 0
        assert post(one, messages, access, upload, upload_type)[1]["id"] == first[1]["id"]

        # A rolling restart during a burst of sends: each send that fails is retried once on the
        # other worker with the same client id; the sockets are closed with 1012 and reconnect.
        outcomes: dict[str, int] = {}
        restarted = threading.Event()

        def burst() -> None:
            count = 0
            while not restarted.is_set() or count < 10:
                client_id = f"b{count}"
                body = json.dumps({"text": f"压测{count}", "client_id": client_id}).encode()
                port = topo.ports[count % 2]
                try:
                    outcomes[client_id] = post(port, messages, access, body, "application/json")[0]
                except (urllib.error.URLError, ConnectionError, OSError):
                    other = topo.ports[(count + 1) % 2]
                    outcomes[client_id] = post(other, messages, access, body, "application/json")[0]
                count += 1

        # Tickets are single-use: one pair for before the restart, one for after.
        before = [official.room(case.pk), staff_phone.room(case.pk)]

        async def rolling() -> list[int | None]:
            sockets = [await websockets.connect(url) for url in before]
            for ws in sockets:
                await frame_of(ws, "hello")
            sender = threading.Thread(target=burst)
            sender.start()
            restart = asyncio.create_task(asyncio.to_thread(topo.run, "restart-web"))
            codes = [await closed_with(ws) for ws in sockets]
            done = await restart
            restarted.set()
            await asyncio.to_thread(sender.join, 60)
            assert done.returncode == 0, done.stderr
            after = await asyncio.to_thread(
                lambda: [official.room(case.pk), staff_phone.room(case.pk)]
            )
            async with (
                websockets.connect(after[0]) as caller,
                websockets.connect(after[1]) as staff,
            ):
                await frame_of(caller, "hello")
                await frame_of(staff, "hello")
                await send(caller, "重启后", "k5")
                await text_arrives(staff, "重启后")
            return codes

        assert asyncio.run(rolling()) == [1012, 1012]
        assert outcomes and set(outcomes.values()) <= {200, 201}

        # The life goes on to its end on the restarted workers.
        assert official.call(f"cases/{case.pk}/complete/")["state"] == "pending_rating"
        rated = official.call(
            f"cases/{case.pk}/ratings/",
            {"ratings": [{"department": world.dept_a.pk, "scores": {"result": 95, "conduct": 98}}]},
        )
        assert rated["state"] == "closed"

        # /metrics on either worker adds up every process of the topology, the killed one's
        # counts included (prometheus_client's multiprocess directory, bin/topology).
        scraped = (
            urllib.request.urlopen(f"http://127.0.0.1:{topo.ports[1]}/metrics", timeout=10)
            .read()
            .decode()
        )
        submitted = re.search(
            r'^jinshao_case_transitions_total\{kind="submitted"\} (\S+)$', scraped, re.M
        )
        assert submitted and float(submitted[1]) >= 1, scraped[:2000]

    ids = list(Message.objects.filter(case=case).exclude(client_id="").values_list("client_id"))
    client_ids = [row[0] for row in ids]
    expected = ["k1", "k2", "k3", "k4", "up-1", "k5", *outcomes]
    assert sorted(client_ids) == sorted(expected)  # every message exactly once
    assert Attachment.objects.filter(case=case).count() == 1


class HoldingReceiver(Receiver):
    """A platform that holds its first request open (the worker is mid-delivery) and keeps,
    as a real one does, each status once by its ``Idempotency-Key``."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = threading.Event()
        self.release = threading.Event()
        plain = self.handler
        receiver = self

        class Holding(plain):  # type: ignore[valid-type, misc]
            def do_POST(self):  # noqa: N802 (http.server's name)
                if not receiver.holding.is_set():
                    receiver.holding.set()
                    receiver.release.wait(30)
                super().do_POST()

        self.handler = Holding

    def statuses(self) -> list[str]:
        """Each status the platform took, once, in the order it first got them."""
        kept: dict[str, str] = {}
        for request in self.acknowledged:
            kept.setdefault(request["key"], request["json"]["event"])
        return list(kept.values())


def test_the_outbox_keeps_its_promise_when_the_celery_worker_is_killed_mid_delivery(
    world, tmp_path
):
    receiver = HoldingReceiver()
    receiver.up()
    system = ExternalSystem.objects.create(
        code="ywtg",
        name="一网统管平台",
        source="grid_platform",
        secret=SECRET,
        callback_url=receiver.url,
    )
    CategoryMapping.objects.create(system=system, external_code="C-0101", template=world.template)
    AreaMapping.objects.create(system=system, external_code="A-77", community=world.community)
    try:
        # Short outbox timings: a try times out after 2 s, its lease after 6 s, flush every 1 s.
        with topology(
            tmp_path, web=1, JINSHAO_OUTBOX_TIMEOUT_SECONDS="2", JINSHAO_OUTBOX_FLUSH_SECONDS="1"
        ) as topo:
            case = integration_services.take_in(
                system, integration_services.parse_platform_case(system, platform_case())
            ).case  # "created", handed to the Celery worker at commit
            assert receiver.holding.wait(30)  # the worker is posting it
            topo.kill("worker")
            case_services.submit_case(case, actor=world.official)  # "submitted", worker down
            receiver.release.set()  # the platform answers a worker that is gone
            started = topo.run("start")  # brings the worker back
            assert started.returncode == 0, started.stderr
            assert wait_until(
                lambda: not OutboundMessage.objects.filter(state="pending").exists(), 60
            )
    finally:
        receiver.close()
    assert receiver.statuses() == ["created", "submitted"]
    created = [r for r in receiver.received if r["json"]["event"] == "created"]
    assert len(created) >= 2 and len({r["key"] for r in created}) == 1  # resent, same key
