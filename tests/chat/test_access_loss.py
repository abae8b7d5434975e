"""An open socket lives only as long as its person's right to it.

Every way of losing a room or the account closes the sockets at once, and a
frame from a socket whose person lost access is refused even when the news
never arrived (the change was made behind the services' back).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import RoleAssignment, User
from cases import services as case_services
from cases.choices import InvitationState
from cases.models import Invitation
from chat import services as chat_services
from chat.models import Message
from tests.api.client import login
from tests.chat.conftest import next_of, open_socket, refused

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_db_threads"),
]

FEED = "/ws/notifications/"


def room(case) -> str:
    return f"/ws/cases/{case.pk}/"


async def closed_with(socket) -> tuple[str, int]:
    """The error code the socket was told, and the close code that followed."""
    error = await next_of(socket, "error")
    closing = await socket.receive_output(timeout=5)
    assert closing["type"] == "websocket.close", closing
    return error["code"], closing["code"]


async def refuses_frames(socket) -> None:
    """Frames get no history, no pong and no saved message: the socket is shown out."""
    await socket.send_json_to({"type": "message", "text": "还能发吗", "client_id": "late"})
    frames = []
    while True:
        output = await socket.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            break
        frames.append(output["text"])
    assert not any('"ack"' in f or '"history"' in f for f in frames), frames
    saved = await database_sync_to_async(Message.objects.filter(text="还能发吗").exists)()
    assert not saved


@database_sync_to_async
def save_user(user, **changes) -> None:
    user.refresh_from_db()
    for name, value in changes.items():
        setattr(user, name, value)
    user.save()


@database_sync_to_async
def new_password(user) -> None:
    user.refresh_from_db()
    user.set_password("Another-Pass-2025")
    user.save()


# ------------------------------------------------------------------ leaving the room


async def test_returning_the_case_shows_the_department_out(world, case_in):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a", "staff_b"))
    staff, _hello = await open_socket(room(case), world.staff_a)
    await database_sync_to_async(case_services.return_case)(
        case, actor=world.staff_a, reason="不属于本部门职责"
    )
    assert await closed_with(staff) == ("removed", 4403)


async def test_a_commander_whose_role_is_removed_is_shown_out(world, case_in):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    commander, _hello = await open_socket(room(case), world.commander)
    await database_sync_to_async(
        RoleAssignment.objects.filter(user=world.commander, role="commander").delete
    )()
    assert await closed_with(commander) == ("removed", 4403)


async def test_a_frame_after_losing_the_room_is_refused_even_unannounced(world, case_in):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    staff, _hello = await open_socket(room(case), world.staff_a)
    # Behind the services' back: no event, no push. The next frame must find out.
    await database_sync_to_async(Invitation.objects.filter(case=case, person=world.staff_a).update)(
        state=InvitationState.RETURNED
    )
    await staff.send_json_to({"type": "resume", "after": 0})
    assert await closed_with(staff) == ("removed", 4403)


async def test_a_message_after_losing_the_room_is_not_saved(world, case_in):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    staff, _hello = await open_socket(room(case), world.staff_a)
    await database_sync_to_async(Invitation.objects.filter(case=case, person=world.staff_a).update)(
        state=InvitationState.WITHDRAWN
    )
    await refuses_frames(staff)


# ------------------------------------------------------------------ losing the account


@pytest.mark.parametrize("path", [room, lambda case: FEED], ids=["room", "feed"])
async def test_deactivation_closes_every_socket(world, case_in, path):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    staff, _hello = await open_socket(path(case), world.staff_a)
    await save_user(world.staff_a, is_active=False)
    assert await closed_with(staff) == ("account_inactive", 4401)


@pytest.mark.parametrize("path", [room, lambda case: FEED], ids=["room", "feed"])
async def test_a_new_password_closes_every_socket(world, case_in, path):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    staff, _hello = await open_socket(path(case), world.staff_a)
    await new_password(world.staff_a)
    assert await closed_with(staff) == ("password_changed", 4401)


async def test_a_deactivated_person_s_frames_are_refused_even_unannounced(world, case_in):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    staff, _hello = await open_socket(room(case), world.staff_a)
    feed, _hello = await open_socket(FEED, world.staff_a)
    await database_sync_to_async(User.objects.filter(pk=world.staff_a.pk).update)(is_active=False)
    await refuses_frames(staff)
    await feed.send_json_to({"type": "ping"})
    assert await closed_with(feed) == ("account_inactive", 4401)


async def test_a_lock_out_closes_the_sockets_opened_before_it(world, case_in):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    staff, _hello = await open_socket(room(case), world.staff_a)
    feed, _hello = await open_socket(FEED, world.staff_a)

    def guess() -> None:
        attacker = APIClient(REMOTE_ADDR="10.9.9.9")
        for _ in range(django_settings.AXES_FAILURE_LIMIT):
            attacker.post(
                reverse("api:token"),
                {"username": "staff_a", "password": "Guess-Pass-2024"},
                format="json",
            )

    await database_sync_to_async(guess)()
    assert await closed_with(staff) == ("locked_out", 4401)
    assert await closed_with(feed) == ("locked_out", 4401)


async def test_a_browser_log_out_closes_its_sockets(world, case_in):
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    browser = Client()
    await database_sync_to_async(browser.force_login)(world.commander)
    name = django_settings.SESSION_COOKIE_NAME
    headers = [
        (b"cookie", f"{name}={browser.cookies[name].value}".encode()),
        (b"origin", b"http://localhost:8000"),
    ]
    socket = WebsocketCommunicator(application, room(case), headers=headers)
    assert (await socket.connect(timeout=5))[0]
    assert (await socket.receive_json_from(timeout=5))["type"] == "hello"
    await database_sync_to_async(browser.logout)()
    assert await closed_with(socket) == ("logged_out", 4401)


async def test_a_phone_log_out_closes_its_sockets(world, case_in):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    phone = await database_sync_to_async(login)(world.staff_a)
    ticket = (await database_sync_to_async(phone.post)(reverse("api:ws-ticket"))).data["ticket"]
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    socket = WebsocketCommunicator(application, f"{room(case)}?ticket={ticket}")
    assert (await socket.connect(timeout=5))[0]
    assert (await socket.receive_json_from(timeout=5))["type"] == "hello"
    answer = await database_sync_to_async(phone.post)(
        reverse("api:logout"), {"refresh": phone.refresh_token}, format="json"
    )
    assert answer.status_code == 204
    assert await closed_with(socket) == ("logged_out", 4401)


async def test_an_expired_password_opens_no_socket(world, case_in, settings):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    long_ago = timezone.now() - timedelta(days=settings.JINSHAO_PASSWORD_MAX_AGE_DAYS + 1)
    await database_sync_to_async(User.objects.filter(pk=world.staff_a.pk).update)(
        password_changed_at=long_ago
    )
    for path in (FEED, room(case)):
        error, code = await refused(path, world.staff_a)
        assert (error["code"], code) == ("password_expired", 4403)


# ------------------------------------------------------------------ tickets bound to their login


async def _ticket_socket(path: str, ticket: str):
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    socket = WebsocketCommunicator(application, f"{path}?ticket={ticket}")
    assert (await socket.connect(timeout=5))[0]
    return socket


async def _reads_the_room(path: str, ticket: str) -> bool:
    """Whether the ticket opens a room socket that answers ``resume`` with history."""
    socket = await _ticket_socket(path, ticket)
    first = await socket.receive_json_from(timeout=5)
    if first["type"] != "hello":
        await socket.disconnect()
        return False
    await socket.send_json_to({"type": "resume", "after": 0})
    second = await socket.receive_json_from(timeout=5)
    await socket.disconnect()
    return second["type"] == "history"


@pytest.mark.parametrize("what", ["password_change", "logout", "lockout"])
async def test_a_ticket_fetched_before_the_login_ended_opens_no_working_room(world, case_in, what):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    phone = await database_sync_to_async(login)(world.staff_a)  # the stolen phone
    ticket = (await database_sync_to_async(phone.post)(reverse("api:ws-ticket"))).data["ticket"]

    def end_it() -> None:
        if what == "password_change":
            user = User.objects.get(pk=world.staff_a.pk)
            user.set_password("Another-Pass-2025")
            user.save()
        elif what == "logout":
            answer = phone.post(
                reverse("api:logout"), {"refresh": phone.refresh_token}, format="json"
            )
            assert answer.status_code == 204
        else:
            attacker = APIClient(REMOTE_ADDR="10.9.9.9")
            for _ in range(django_settings.AXES_FAILURE_LIMIT):
                attacker.post(
                    reverse("api:token"),
                    {"username": "staff_a", "password": "Guess-Pass-2024"},
                    format="json",
                )
        assert phone.get(reverse("api:me")).status_code == 401  # the phone's login is over

    await database_sync_to_async(end_it)()
    assert not await _reads_the_room(room(case), ticket), what


async def test_a_ticket_socket_minted_from_a_browser_session_ends_with_that_session(world, case_in):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    browser = Client()
    await database_sync_to_async(browser.force_login)(world.staff_a)
    answer = await database_sync_to_async(browser.post)(reverse("api:ws-ticket"))
    assert answer.status_code == 201, answer.content
    socket = await _ticket_socket(room(case), answer.json()["ticket"])
    assert (await socket.receive_json_from(timeout=5))["type"] == "hello"
    await database_sync_to_async(browser.logout)()
    assert await closed_with(socket) == ("logged_out", 4401)


async def test_a_phone_log_out_closes_only_that_phones_sockets(world, case_in):
    """Two phones of one person; the first refreshes its tokens (a rotation is not a
    log-out), then logs out: its socket closes, the other phone's keeps reading."""
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    first = await database_sync_to_async(login)(world.staff_a)
    second = await database_sync_to_async(login)(world.staff_a)
    sockets = []
    for phone in (first, second):
        answer = await database_sync_to_async(phone.post)(reverse("api:ws-ticket"))
        socket = await _ticket_socket(room(case), answer.data["ticket"])
        assert (await socket.receive_json_from(timeout=5))["type"] == "hello"
        sockets.append(socket)
    rotated = await database_sync_to_async(APIClient().post)(
        reverse("api:token-refresh"), {"refresh": first.refresh_token}, format="json"
    )
    assert rotated.status_code == 200, rotated.content
    await sockets[0].send_json_to({"type": "ping"})  # still open after the rotation
    assert (await sockets[0].receive_json_from(timeout=5))["type"] == "pong"
    first.credentials(HTTP_AUTHORIZATION=f"Bearer {rotated.data['access']}")
    answer = await database_sync_to_async(first.post)(
        reverse("api:logout"), {"refresh": rotated.data["refresh"]}, format="json"
    )
    assert answer.status_code == 204
    assert await closed_with(sockets[0]) == ("logged_out", 4401)
    await sockets[1].send_json_to({"type": "resume", "after": 0})
    assert (await next_of(sockets[1], "history"))["type"] == "history"
    await sockets[1].disconnect()


# ------------------------------------------------------------------ pushed frames


async def _pushed_texts(socket, timeout: float = 2) -> list[str]:
    """Text of the frames pushed to ``socket`` until it closes or stays quiet (call last)."""
    texts = []
    while True:
        try:
            output = await socket.receive_output(timeout=timeout)
        except BaseException:
            return texts
        if output["type"] == "websocket.close":
            return texts
        texts.append(output.get("text", ""))


async def test_a_room_socket_that_missed_the_news_receives_no_new_message(world, case_in):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    staff, _hello = await open_socket(room(case), world.staff_a)
    # Behind the services' back: no event tells the socket.
    await database_sync_to_async(Invitation.objects.filter(case=case, person=world.staff_a).update)(
        state=InvitationState.RETURNED
    )
    await database_sync_to_async(chat_services.post_text)(
        case, sender=world.commander, text="只给还在的人看", client_id="c1"
    )
    texts = await _pushed_texts(staff)
    assert not any("只给还在的人看" in t for t in texts), texts


async def test_a_deactivated_feed_that_missed_the_news_receives_no_alert(world, case_in):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    feed, _hello = await open_socket(FEED, world.staff_a)
    await database_sync_to_async(User.objects.filter(pk=world.staff_a.pk).update)(is_active=False)
    await database_sync_to_async(chat_services.post_text)(
        case, sender=world.commander, text="停用后的消息", client_id="c2"
    )
    texts = await _pushed_texts(feed)
    assert not any("停用后的消息" in t or "message_alert" in t for t in texts), texts


async def test_moving_the_community_to_another_grid_shows_the_old_commander_out(world, case_in):
    from grids.choices import AreaLevel
    from tests.factories import make_area

    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    commander, _hello = await open_socket(room(case), world.commander)

    def move() -> None:
        other_grid = make_area(AreaLevel.GRID, world.town, code="310120101G02", name="第二网格")
        world.community.refresh_from_db()
        world.community.parent = other_grid
        world.community.save()

    await database_sync_to_async(move)()
    # Told at once by the move, before anything is said in the room.
    assert await closed_with(commander) == ("removed", 4403)
