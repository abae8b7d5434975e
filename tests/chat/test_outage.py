"""The channel layer (Redis in production) goes away and comes back: nothing is lost."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer

from chat.models import Message
from tests.chat.conftest import next_of, open_socket

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_threads"),
]


class FlakyLayer(InMemoryChannelLayer):
    """An in-memory layer that can be switched off like an unplugged Redis."""

    down = False

    def _check(self) -> None:
        if FlakyLayer.down:
            raise ConnectionError("the layer is unplugged")

    async def group_add(self, group, channel):
        self._check()
        return await super().group_add(group, channel)

    async def group_send(self, group, message):
        self._check()
        return await super().group_send(group, message)

    async def receive(self, channel):
        while True:
            self._check()
            try:
                return await asyncio.wait_for(super().receive(channel), timeout=0.05)
            except TimeoutError:
                continue


@pytest.fixture
def flaky_layer(settings):
    FlakyLayer.down = False
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.chat.test_outage.FlakyLayer"}}
    yield FlakyLayer
    FlakyLayer.down = False


async def test_sends_during_an_outage_are_saved_and_caught_up_after(world, case_in, flaky_layer):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    room = f"/ws/cases/{case.pk}/"
    caller, _hello = await open_socket(room, world.official)
    staff, hello = await open_socket(room, world.staff_a)
    seen = hello["last_message_id"]

    flaky_layer.down = True
    for socket in (caller, staff):
        assert (await next_of(socket, "error"))["code"] == "live_unavailable"
    await caller.send_json_to({"type": "message", "text": "断线时发的", "client_id": "o-1"})
    ack = await next_of(caller, "ack")
    failed = await next_of(caller, "error")
    assert failed["code"] == "live_delivery_failed" and failed["id"] == ack["id"]
    saved = await database_sync_to_async(Message.objects.filter(pk=ack["id"]).exists)()
    assert saved  # the database holds it whatever the layer does

    flaky_layer.down = False
    for socket in (caller, staff):
        assert (await next_of(socket, "live_restored", timeout=10))["message"]
    await staff.send_json_to({"type": "resume", "after": seen})
    history = await next_of(staff, "history")
    assert [m["text"] for m in history["messages"] if m["kind"] == "text"] == ["断线时发的"]

    await caller.send_json_to({"type": "message", "text": "恢复后发的", "client_id": "o-2"})
    assert (await next_of(staff, "message"))["message"]["text"] == "恢复后发的"
    for socket in (caller, staff):
        await socket.disconnect()


async def test_a_socket_opened_during_an_outage_joins_when_it_ends(world, case_in, flaky_layer):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    flaky_layer.down = True
    staff, first = await open_socket(f"/ws/cases/{case.pk}/", world.staff_a)
    assert (first["type"], first["code"]) == ("error", "live_unavailable")
    assert (await next_of(staff, "hello"))["case"]["id"] == case.pk
    flaky_layer.down = False
    assert (await next_of(staff, "live_restored", timeout=10))["type"] == "live_restored"
    caller, _hello = await open_socket(f"/ws/cases/{case.pk}/", world.official)
    await caller.send_json_to({"type": "message", "text": "到了吗", "client_id": "o-3"})
    assert (await next_of(staff, "message"))["message"]["text"] == "到了吗"
    for socket in (caller, staff):
        await socket.disconnect()
