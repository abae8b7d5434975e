"""An external system mapped onto the world, signed requests, and a receiver to call back."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from cases.choices import CaseSource
from integrations.models import AreaMapping, CategoryMapping, ExternalSystem
from integrations.services import sign

SECRET = "platform-shared-secret-0123456789"
#: The api_keys of two Open311 client systems (``open311_system``, ``other_open311_system``).
OPEN311_KEY = "s3cret-open311-key-for-tests"
OTHER_OPEN311_KEY = "s3cret-of-another-system"


@pytest.fixture
def system(world) -> ExternalSystem:
    """An Open311 client system whose api_key is ``OPEN311_KEY``."""
    return ExternalSystem.objects.create(
        code="city-open311", name="市城运平台", source=CaseSource.OPEN311, secret=OPEN311_KEY
    )


@pytest.fixture
def other_system(world) -> ExternalSystem:
    """A second Open311 client system (``OTHER_OPEN311_KEY``): it must not see the first's."""
    return ExternalSystem.objects.create(
        code="other-open311", name="另一平台", source=CaseSource.OPEN311, secret=OTHER_OPEN311_KEY
    )


@pytest.fixture
def platform(world):
    system = ExternalSystem.objects.create(
        code="ywtg", name="一网统管平台", source="grid_platform", secret=SECRET
    )
    CategoryMapping.objects.create(system=system, external_code="C-0101", template=world.template)
    AreaMapping.objects.create(system=system, external_code="A-77", community=world.community)
    return system


def platform_case(**overrides) -> dict:
    return {
        "external_id": "WG2026-000123",
        "category_code": "C-0101",
        "area_code": "A-77",
        "title": "南桥路口占道经营",
        "description": "早市摊贩占用机动车道",
        "address": "南桥路12号",
        "latitude": "30.918000",
        "longitude": "121.474000",
        **overrides,
    }


def post_signed(client, system, data, *, secret=SECRET, timestamp=None, body=None, **extra):
    body = body if body is not None else json.dumps(data, ensure_ascii=False).encode()
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    return client.post(
        reverse("api:intake-cases", args=[system.code]),
        data=body,
        content_type="application/json",
        HTTP_X_JINSHAO_TIMESTAMP=timestamp,
        HTTP_X_JINSHAO_SIGNATURE=sign(secret, timestamp, body),
        **extra,
    )


class Receiver:
    """The platform's callback endpoint: answers ``status`` (or is down), keeps what it got."""

    def __init__(self) -> None:
        self.status = 200
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers["Content-Length"])
                body = self.rfile.read(length)
                receiver.received.append(
                    {
                        "body": body,
                        "json": json.loads(body),
                        "timestamp": self.headers["X-Jinshao-Timestamp"],
                        "signature": self.headers["X-Jinshao-Signature"],
                        "key": self.headers["Idempotency-Key"],
                        "status": receiver.status,
                    }
                )
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.handler = Handler
        with socket.socket() as probe:  # a port nobody listens on until up()
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/jinshao/status"
        self.server: ThreadingHTTPServer | None = None

    def up(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self.handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def acknowledged(self) -> list[dict]:
        return [r for r in self.received if 200 <= r["status"] < 300]


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()
