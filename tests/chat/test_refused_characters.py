"""Socket frames holding text PostgreSQL refuses (a NUL, an unpaired surrogate): an error frame.

The check is ``JsonSocket.receive``'s, so it holds for every socket: the
case room and the notifications feed. On PostgreSQL the old code saved
nothing but answered ``server_error``; on SQLite it stored the NUL.
"""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async

from chat.models import Message
from tests.chat.conftest import next_of, open_socket

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_threads"),
]


@pytest.mark.parametrize(
    ("frame", "field", "client_id"),
    [
        ({"type": "message", "text": "请尽快\x00到现场", "client_id": "c-1"}, "text", "c-1"),
        ({"type": "message", "text": "请尽快\ud800到现场", "client_id": "c-2"}, "text", "c-2"),
        ({"type": "message", "text": "请尽快到现场", "client_id": "c\x00"}, "client_id", None),
        ({"type": "message", "text": "好", "extra": {"k\x00": 1}}, "extra.k\ufffd", None),
        ({"type": "message\x00", "text": "好"}, "type", None),
    ],
)
async def test_a_frame_with_refused_text_gets_an_error_and_nothing_is_saved(
    world, case_in, frame, field, client_id
):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    caller, _hello = await open_socket(f"/ws/cases/{case.pk}/", world.official)
    count = database_sync_to_async(Message.objects.filter(case=case).count)
    before = await count()  # the room's system lines
    await caller.send_to(text_data=json.dumps(frame))  # escaped, as a phone's JSON library does
    error = await next_of(caller, "error")
    assert error["code"] == "invalid_characters" and error["message"]
    assert list(error["fields"]) == [field]
    assert error["client_id"] == client_id
    assert await count() == before
    await caller.send_json_to({"type": "message", "text": "请尽快到现场", "client_id": "c-9"})
    assert (await next_of(caller, "ack"))["client_id"] == "c-9"  # the socket lives on
    await caller.disconnect()


async def test_the_notifications_socket_refuses_it_too(world):
    socket, hello = await open_socket("/ws/notifications/", world.official)
    assert hello["type"] == "hello"
    await socket.send_to(text_data=json.dumps({"type": "ping", "note": "\x00"}))
    error = await next_of(socket, "error")
    assert (error["code"], list(error["fields"])) == ("invalid_characters", ["note"])
    await socket.send_json_to({"type": "ping"})
    assert (await next_of(socket, "pong"))["type"] == "pong"
    await socket.disconnect()
