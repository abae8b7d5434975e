"""Sockets in tests: Channels' communicator on the real ASGI application."""

from __future__ import annotations

import asyncio
import contextlib
import io

import pytest
import pytest_asyncio
from channels import DEFAULT_CHANNEL_LAYER
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from PIL import Image

from accounts.services import issue_socket_ticket


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest_asyncio.fixture
async def close_db_threads(monkeypatch):
    """After the test: end every socket it left open, forget the channel layer, and close
    the connections the consumers opened in the sync worker thread.

    A consumer still running when pytest-asyncio closes the test's event loop is
    cancelled at once with the channel layer's own receive tasks. On Redis that
    mass cancellation could wait forever (once it held CI for its whole 90
    minutes, in the teardown of a test whose socket the server had closed). A
    disconnect ends each consumer the way a phone does, and a fresh layer per
    test carries no receive lock or buffer from an earlier test's loop.
    """
    from asgiref.testing import ApplicationCommunicator
    from channels.layers import channel_layers

    opened: list[ApplicationCommunicator] = []
    original_init = ApplicationCommunicator.__init__

    def register(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(ApplicationCommunicator, "__init__", register)
    yield
    for socket in opened:
        if not socket.future.done():
            with contextlib.suppress(Exception):
                await socket.send_input({"type": "websocket.disconnect", "code": 1000})
                await socket.wait(timeout=5)
    layer = channel_layers.backends.pop(DEFAULT_CHANNEL_LAYER, None)
    if layer is not None and hasattr(layer, "close_pools"):
        with contextlib.suppress(Exception):
            await asyncio.wait_for(layer.close_pools(), timeout=5)
    await database_sync_to_async(connections.close_all)()


async def open_socket(path: str, user=None, *, headers=None):
    """A connected communicator (with a fresh ticket for ``user``), and its first frame."""
    from config.asgi import application

    if user is not None:
        ticket, _seconds = await database_sync_to_async(issue_socket_ticket)(user=user)
        path = f"{path}?ticket={ticket}"
    socket = WebsocketCommunicator(application, path, headers=headers or [])
    connected, _subprotocol = await socket.connect(timeout=5)
    assert connected
    first = await socket.receive_json_from(timeout=5)
    return socket, first


async def refused(path: str, user=None, *, query: str = "") -> tuple[dict, int]:
    """Open a socket that should be refused: its error frame and close code."""
    from config.asgi import application

    if user is not None:
        ticket, _seconds = await database_sync_to_async(issue_socket_ticket)(user=user)
        query = f"ticket={ticket}"
    socket = WebsocketCommunicator(application, f"{path}?{query}" if query else path)
    connected, _subprotocol = await socket.connect(timeout=5)
    assert connected  # accepted only to say why
    error = await socket.receive_json_from(timeout=5)
    closing = await socket.receive_output(timeout=5)
    assert closing["type"] == "websocket.close"
    await socket.disconnect()
    return error, closing["code"]


async def next_of(socket, kind: str, *, timeout: float = 5) -> dict:
    """The next frame of type ``kind`` (skipping others, e.g. system lines)."""
    while True:
        frame = await socket.receive_json_from(timeout=timeout)
        if frame["type"] == kind:
            return frame


def png_bytes(size=(64, 48), colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()
