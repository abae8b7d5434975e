"""Two real server processes on one Redis: a room spans them, and survives Redis going away.

Runs where CI has PostgreSQL and Redis (``DATABASE_URL``, ``REDIS_URL``): two
uvicorn processes serve the test database, their channel layer is Redis
(through a small TCP relay the test can cut), and the clients are real
WebSocket clients (``websockets``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import websockets
from django.conf import settings
from django.db import connection

from accounts.services import issue_socket_ticket
from chat.models import Message

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.redis,
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Relay:
    """A TCP relay to Redis that the test can cut and restore (an unplugged cable)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.AbstractServer | None = None
        self.pipes: set[asyncio.StreamWriter] = set()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    async def _pipe(self, reader, writer) -> None:
        self.pipes.add(writer)
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self.pipes.discard(writer)
            writer.close()

    async def _client(self, reader, writer) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    def plug(self) -> None:
        async def start():
            self.server = await asyncio.start_server(self._client, "127.0.0.1", self.port)

        self._run(start())

    def unplug(self) -> None:
        async def stop():
            assert self.server is not None
            self.server.close()
            for writer in list(self.pipes):
                writer.transport.abort()
            await self.server.wait_closed()

        self._run(stop())


@contextlib.contextmanager
def serving(port: int, env: dict):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
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
        process.wait(10)


def server_env(redis_url: str) -> dict:
    db = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "CHANNEL_LAYER_PREFIX": f"jinshao-test-{uuid.uuid4().hex[:8]}",
        "JINSHAO_SERVE_STATIC": "false",
    }


async def frame_of(ws, kind: str, timeout: float = 10) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == kind:
                return frame


async def text_arrives(ws, text: str, timeout: float = 10) -> dict:
    """The message frame carrying ``text`` (a sender also gets its own messages back)."""
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "message" and frame["message"]["text"] == text:
                return frame["message"]


def room_url(port: int, case, user) -> str:
    ticket, _seconds = issue_socket_ticket(user=user)
    return f"ws://127.0.0.1:{port}/ws/cases/{case.pk}/?ticket={ticket}"


def test_a_room_spans_two_server_processes(world, case_in):
    case = case_in("in_progress", invite=("staff_a",))
    one, two = free_port(), free_port()
    env = server_env(settings.REDIS_URL)
    with serving(one, env), serving(two, env):
        caller_url, staff_url = (
            room_url(one, case, world.official),
            room_url(two, case, world.staff_a),
        )

        async def talk():
            async with (
                websockets.connect(caller_url) as caller,
                websockets.connect(staff_url) as staff,
            ):
                await frame_of(caller, "hello")
                await frame_of(staff, "hello")
                await caller.send(
                    json.dumps({"type": "message", "text": "一号进程发", "client_id": "p1"})
                )
                await text_arrives(staff, "一号进程发")
                await staff.send(
                    json.dumps({"type": "message", "text": "二号进程回", "client_id": "p2"})
                )
                await text_arrives(caller, "二号进程回")

        asyncio.run(talk())


def test_redis_going_away_loses_nothing(world, case_in):
    case = case_in("in_progress", invite=("staff_a",))
    redis = urlsplit(settings.REDIS_URL)
    relay = Relay((redis.hostname or "127.0.0.1", redis.port or 6379))
    relay.plug()
    one, two = free_port(), free_port()
    env = server_env(f"redis://127.0.0.1:{relay.port}{redis.path or '/0'}")
    with serving(one, env), serving(two, env):
        caller_url, staff_url = (
            room_url(one, case, world.official),
            room_url(two, case, world.staff_a),
        )

        async def outage() -> int:
            async with (
                websockets.connect(caller_url) as caller,
                websockets.connect(staff_url) as staff,
            ):
                await frame_of(caller, "hello")
                seen = (await frame_of(staff, "hello"))["last_message_id"]
                relay.unplug()
                assert (await frame_of(caller, "error"))["code"] == "live_unavailable"
                await caller.send(
                    json.dumps({"type": "message", "text": "断线时发的", "client_id": "r1"})
                )
                ack = await frame_of(caller, "ack")
                assert (await frame_of(caller, "error"))["code"] == "live_delivery_failed"
                relay.plug()
                await frame_of(caller, "live_restored", timeout=20)
                await frame_of(staff, "live_restored", timeout=20)
                await staff.send(json.dumps({"type": "resume", "after": seen}))
                history = await frame_of(staff, "history")
                assert [m["text"] for m in history["messages"] if m["kind"] == "text"] == [
                    "断线时发的"
                ]
                await caller.send(
                    json.dumps({"type": "message", "text": "恢复了", "client_id": "r2"})
                )
                await text_arrives(staff, "恢复了")
                return ack["id"]

        saved = asyncio.run(outage())
    assert Message.objects.filter(pk=saved, text="断线时发的").exists()
