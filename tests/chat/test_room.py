"""A case's room over WebSockets: who gets in, live messages, resume, bad frames."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async

from accounts.services import issue_socket_ticket
from cases import services as case_services
from chat.models import Message
from tests.chat.conftest import next_of, open_socket, refused

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_threads"),
]


def room(case) -> str:
    return f"/ws/cases/{case.pk}/"


async def test_strangers_are_refused_with_a_reason(world, case_in):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    error, code = await refused(room(case))
    assert (error["code"], code) == ("not_authenticated", 4401)
    error, code = await refused(room(case), world.other_official)
    assert (error["code"], code) == ("not_found", 4404)  # can't even see the case
    error, code = await refused(room(case), world.leader)
    assert (error["code"], code) == ("not_participant", 4403)  # sees the case, not in the room
    error, code = await refused(room(case), world.staff_a2)
    assert (error["code"], code) == ("not_found", 4404)
    error, code = await refused("/ws/cases/999999/", world.official)
    assert (error["code"], code) == ("not_found", 4404)
    error, code = await refused("/ws/nowhere/", world.official)
    assert code == 4404
    assert "登录" in (await refused(room(case)))[0]["message"]  # Chinese by default


async def test_a_ticket_works_once(world, case_in):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    ticket, _seconds = await database_sync_to_async(issue_socket_ticket)(user=world.official)
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    first = WebsocketCommunicator(application, f"{room(case)}?ticket={ticket}")
    assert (await first.connect())[0]
    assert (await first.receive_json_from())["type"] == "hello"
    error, code = await refused(room(case), query=f"ticket={ticket}")
    assert (error["code"], code) == ("not_authenticated", 4401)
    await first.disconnect()


async def test_two_participants_talk_live(world, case_in):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    caller, hello = await open_socket(room(case), world.official)
    assert hello["type"] == "hello" and hello["case"]["number"] == case.number
    staff, _hello = await open_socket(room(case), world.staff_a)

    await caller.send_json_to({"type": "message", "text": "请尽快到现场", "client_id": "c-1"})
    ack = await next_of(caller, "ack")
    assert ack["client_id"] == "c-1" and not ack["duplicate"]
    for socket in (caller, staff):
        message = (await next_of(socket, "message"))["message"]
        assert message["id"] == ack["id"] and message["text"] == "请尽快到现场"
        assert message["sender"]["name"] == "张书记" and message["kind"] == "text"

    await staff.send_json_to({"type": "message", "text": "已出发", "client_id": "s-1"})
    assert (await next_of(caller, "message"))["message"]["text"] == "已出发"
    await caller.disconnect()
    await staff.disconnect()


async def test_a_resend_is_not_a_duplicate(world, case_in):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    caller, _hello = await open_socket(room(case), world.official)
    for _ in range(2):
        await caller.send_json_to({"type": "message", "text": "同一条", "client_id": "same"})
    first, second = await next_of(caller, "ack"), await next_of(caller, "ack")
    assert first["id"] == second["id"] and second["duplicate"]
    count = await database_sync_to_async(Message.objects.filter(text="同一条").count)()
    assert count == 1
    await caller.disconnect()


async def test_steps_of_the_case_appear_in_the_room(world, case_in):
    case = await database_sync_to_async(case_in)("dispatched", invite=("staff_a", "staff_b"))
    caller, _hello = await open_socket(room(case), world.official)
    invitation = await database_sync_to_async(case.invitations.get)(person=world.staff_b)
    await database_sync_to_async(case_services.decline_invitation)(
        invitation, actor=world.staff_b, reason="不属于本部门职责"
    )
    line = (await next_of(caller, "message"))["message"]
    assert line["kind"] == "system" and line["sender"] is None
    assert line["event"]["kind"] == "declined" and "不属于本部门职责" in line["text"]
    assert "冯科员" in line["text"]
    await caller.disconnect()


async def test_a_phone_that_was_away_catches_up_exactly(world, case_in):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    staff, hello = await open_socket(room(case), world.staff_a)
    last_seen = hello["last_message_id"]
    await staff.disconnect()

    caller, _hello = await open_socket(room(case), world.official)
    for n in range(5):
        await caller.send_json_to({"type": "message", "text": f"第{n}条", "client_id": f"m{n}"})
        await next_of(caller, "ack")
    await caller.disconnect()

    staff, _hello = await open_socket(room(case), world.staff_a)
    await staff.send_json_to({"type": "resume", "after": last_seen})
    history = await next_of(staff, "history")
    texts = [m["text"] for m in history["messages"]]
    assert texts == [f"第{n}条" for n in range(5)] and not history["has_more"]
    ids = [m["id"] for m in history["messages"]]
    assert ids == sorted(ids)

    # asking again after something arrived live gives only what is still missing
    caller, _hello = await open_socket(room(case), world.official)
    await caller.send_json_to({"type": "message", "text": "新消息", "client_id": "m9"})
    live = (await next_of(staff, "message"))["message"]
    await staff.send_json_to({"type": "resume", "after": last_seen})
    again = await next_of(staff, "history")
    assert live["id"] not in [m["id"] for m in again["messages"]]  # never sent twice
    await caller.disconnect()
    await staff.disconnect()


async def test_resume_pages_through_a_long_absence(world, case_in, settings):
    settings.JINSHAO_CHAT_PAGE = 3
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))

    def write(n):
        for i in range(n):
            Message.objects.create(case=case, kind="text", sender=world.official, text=f"#{i}")

    await database_sync_to_async(write)(7)
    staff, _hello = await open_socket(room(case), world.staff_a)
    await staff.send_json_to({"type": "resume", "after": 0})
    pages = [await next_of(staff, "history")]
    while pages[-1]["has_more"]:
        pages.append(await next_of(staff, "history"))
    assert all(len(p["messages"]) == 3 for p in pages[:-1]) and len(pages) >= 3
    every = [m for p in pages for m in p["messages"]]
    total = await database_sync_to_async(Message.objects.filter(case=case).count)()
    assert len(every) == total and [m["id"] for m in every] == sorted(m["id"] for m in every)
    assert [m["text"] for m in every if m["kind"] == "text"] == [f"#{i}" for i in range(7)]
    await staff.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "malformed_frame"),
        ("[1, 2]", "malformed_frame"),
        ('{"text": "no type"}', "malformed_frame"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "message", "text": ""}', "invalid"),
        ('{"type": "message", "text": 42}', "invalid"),
        ('{"type": "message", "text": "好", "client_id": "' + "x" * 65 + '"}', "invalid"),
        ('{"type": "resume", "after": "yesterday"}', "invalid"),
        ('{"type": "read", "up_to": -1}', "invalid"),
    ],
)
async def test_bad_frames_get_an_error_and_the_socket_lives_on(world, case_in, frame, code):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    caller, _hello = await open_socket(room(case), world.official)
    await caller.send_to(text_data=frame)
    error = await next_of(caller, "error")
    assert error["code"] == code and error["message"]
    await caller.send_json_to({"type": "ping"})
    assert (await next_of(caller, "pong"))["type"] == "pong"  # still alive
    await caller.disconnect()


async def test_binary_and_oversized_frames(world, case_in, settings):
    settings.JINSHAO_CHAT_MAX_FRAME_BYTES = 1000
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    caller, _hello = await open_socket(room(case), world.official)
    await caller.send_to(bytes_data=b"\x00\x01")
    assert (await next_of(caller, "error"))["code"] == "malformed_frame"
    await caller.send_to(text_data=json.dumps({"type": "message", "text": "长" * 2000}))
    assert (await next_of(caller, "error"))["code"] == "frame_too_large"
    closing = await caller.receive_output(timeout=5)
    assert closing == {"type": "websocket.close", "code": 1009}


async def test_a_flood_is_slowed_then_closed(world, case_in, settings):
    settings.JINSHAO_CHAT_RATE = 3
    settings.JINSHAO_CHAT_RATE_PER = 60.0
    settings.JINSHAO_CHAT_RATE_STRIKES = 2
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    caller, _hello = await open_socket(room(case), world.official)
    for _ in range(5):
        await caller.send_json_to({"type": "ping"})
    frames = []
    while True:
        output = await caller.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            break
        frames.append(json.loads(output["text"]))
    assert [f["type"] for f in frames] == ["pong", "pong", "pong", "error", "error"]
    assert frames[-1]["code"] == "rate_limited" and output["code"] == 4429


async def test_a_closed_room_takes_no_messages(world, case_in):
    case = await database_sync_to_async(case_in)("closed", invite=("staff_a",))
    caller, _hello = await open_socket(room(case), world.official)
    await caller.send_json_to({"type": "message", "text": "还在吗", "client_id": "late"})
    error = await next_of(caller, "error")
    assert error["code"] == "invalid_transition" and error["client_id"] == "late"
    assert "已办结" in error["message"] or "已关闭" in error["message"]
    await caller.disconnect()


async def test_someone_taken_off_the_case_is_shown_out(world, case_in):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a", "staff_b"))
    staff, _hello = await open_socket(room(case), world.staff_a)
    invitation = await database_sync_to_async(case.invitations.get)(person=world.staff_a)
    await database_sync_to_async(case_services.withdraw_invitation)(
        invitation, actor=world.commander, reason="改派他人"
    )
    error = await next_of(staff, "error")
    assert error["code"] == "removed"
    closing = await staff.receive_output(timeout=5)
    assert closing == {"type": "websocket.close", "code": 4403}
    error, code = await refused(room(case), world.staff_a)
    assert code in (4403, 4404)


async def test_read_marks_move_forward_only(world, case_in):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    caller, _hello = await open_socket(room(case), world.official)
    staff, _hello = await open_socket(room(case), world.staff_a)
    for n in range(3):
        await caller.send_json_to({"type": "message", "text": f"{n}", "client_id": f"r{n}"})
        await next_of(caller, "ack")
    last = [(await next_of(staff, "message"))["message"]["id"] for _ in range(3)][-1]
    await staff.send_json_to({"type": "read", "up_to": last})
    assert (await next_of(staff, "read"))["last_read_id"] == last
    await staff.send_json_to({"type": "read", "up_to": 1})
    assert (await next_of(staff, "read"))["last_read_id"] == last  # never back
    await staff.send_json_to({"type": "read", "up_to": last + 1000})
    assert (await next_of(staff, "read"))["last_read_id"] == last  # never past the end
    await caller.disconnect()
    await staff.disconnect()


async def test_the_browser_uses_its_session_from_our_own_pages_only(world, case_in):
    from channels.testing import WebsocketCommunicator
    from django.conf import settings as django_settings
    from django.test import Client

    from config.asgi import application

    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    browser = Client()
    await database_sync_to_async(browser.force_login)(world.commander)
    cookie = f"{django_settings.SESSION_COOKIE_NAME}={browser.cookies[django_settings.SESSION_COOKIE_NAME].value}"

    async def open_with(origin: str):
        headers = [(b"cookie", cookie.encode()), (b"origin", origin.encode())]
        socket = WebsocketCommunicator(application, room(case), headers=headers)
        assert (await socket.connect(timeout=5))[0]
        return socket, await socket.receive_json_from(timeout=5)

    ours, hello = await open_with("http://localhost:8000")
    assert hello["type"] == "hello" and hello["case"]["id"] == case.pk
    await ours.disconnect()
    theirs, refusal = await open_with("https://evil.example")
    assert refusal["code"] == "not_authenticated"  # a cross-site page gets no session
    await theirs.disconnect()
