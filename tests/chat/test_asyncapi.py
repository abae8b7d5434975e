"""The published description of the WebSocket frames (docs/asyncapi.yaml, /api/schema/ws/)
against the frames the server really sends and accepts."""

from __future__ import annotations

import json

import jsonschema
import pytest
from channels.db import database_sync_to_async
from django.test import Client

from core.api.asyncapi import asyncapi_document
from tests.chat.conftest import next_of, open_socket, refused

#: Frame ``type`` → the schema it must match (server → phone).
SERVER_FRAMES = {
    "hello": "Hello",
    "message": "MessageFrame",
    "ack": "Ack",
    "history": "History",
    "read": "ReadMark",
    "pong": "Pong",
    "error": "Error",
    "live_restored": "LiveRestored",
    "wall": "Wall",  # /ws/wall/ (tests/wall)
}


def check(frame: dict, schema_name: str | None = None) -> None:
    """Validate ``frame`` against its component schema (refs resolved in the document)."""
    document = asyncapi_document()
    name = schema_name or SERVER_FRAMES[frame["type"]]
    schema = {"$ref": f"#/components/schemas/{name}", **{"components": document["components"]}}
    jsonschema.Draft202012Validator(schema).validate(frame)


@pytest.mark.django_db
def test_the_document_is_served_next_to_the_openapi_schema():
    response = Client().get("/api/schema/ws/")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["asyncapi"].startswith("3.")
    assert document == asyncapi_document()
    for schema in document["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_threads")
async def test_the_servers_frames_match_the_document(world, case_in):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    room = f"/ws/cases/{case.pk}/"
    caller, hello = await open_socket(room, world.official)
    check(hello)
    sent = {"type": "message", "text": "到现场了吗？", "client_id": "c-1"}
    check(sent, "SendText")
    await caller.send_json_to(sent)
    ack = await next_of(caller, "ack")
    check(ack)
    message = await next_of(caller, "message")
    check(message)
    resume = {"type": "resume", "after": 0}
    check(resume, "Resume")
    await caller.send_json_to(resume)
    history = await next_of(caller, "history")
    check(history)
    assert history["messages"], history
    await caller.send_json_to({"type": "read", "up_to": ack["id"]})
    check(await next_of(caller, "read"))
    await caller.send_json_to({"type": "ping"})
    check(await next_of(caller, "pong"))
    await caller.send_json_to({"type": "resume", "after": -1})
    check(await next_of(caller, "error"))
    await caller.send_to(text_data="not json")
    check(await next_of(caller, "error"))
    await caller.disconnect()

    error, code = await refused(room)
    check(error)
    assert code in (4401, 4403, 4404)
    assert str(code) in asyncapi_document()["info"]["description"]


def test_a_wrong_frame_fails_the_document():
    """The check can fail: a frame missing a field, or with one not described."""
    with pytest.raises(jsonschema.ValidationError):
        check({"type": "ack", "id": 1, "client_id": "x"})
    with pytest.raises(jsonschema.ValidationError):
        check({"type": "pong", "extra": 1})
