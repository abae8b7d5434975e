"""``/ws/notifications/``: each person's own live feed."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from cases import services as case_services
from chat import services as chat_services
from notifications.models import Notification
from tests.chat.conftest import next_of, open_socket, refused

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_threads"),
]
FEED = "/ws/notifications/"


async def test_the_feed_needs_a_login(world):
    error, code = await refused(FEED)
    assert (error["code"], code) == ("not_authenticated", 4401)


async def test_an_invitation_arrives_live(world, case_in):
    case = await database_sync_to_async(case_in)("pending_review", invite=("staff_b",))
    feed, hello = await open_socket(FEED, world.staff_b)
    assert hello == {"type": "hello", "unread": 0}
    await database_sync_to_async(case_services.approve_case)(case, actor=world.commander)
    pushed = (await next_of(feed, "notification"))["notification"]
    assert pushed["kind"] == "invited" and pushed["case"]["number"] == case.number
    assert case.number in pushed["message"] and not pushed["is_read"]
    await feed.send_json_to({"type": "read", "id": pushed["id"]})
    assert (await next_of(feed, "read"))["id"] == pushed["id"]
    read_at = await database_sync_to_async(
        lambda: Notification.objects.get(pk=pushed["id"]).read_at
    )()
    assert read_at is not None
    await feed.send_json_to({"type": "read", "id": 999999})
    assert (await next_of(feed, "error"))["code"] == "not_found"
    await feed.disconnect()


async def test_a_message_alerts_only_those_not_in_the_room(world, case_in):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    staff_feed, _hello = await open_socket(FEED, world.staff_a)
    commander_feed, _hello = await open_socket(FEED, world.commander)
    commander_room, _hello = await open_socket(f"/ws/cases/{case.pk}/", world.commander)

    await database_sync_to_async(chat_services.post_text)(
        case, sender=world.official, text="请回电话", client_id=""
    )
    alert = await next_of(staff_feed, "message_alert")
    assert alert["case"]["number"] == case.number and alert["message"]["text"] == "请回电话"
    assert (await next_of(commander_room, "message"))["message"]["text"] == "请回电话"
    assert await commander_feed.receive_nothing(timeout=0.3)  # in the room already: no alert
    for socket in (staff_feed, commander_feed, commander_room):
        await socket.disconnect()
