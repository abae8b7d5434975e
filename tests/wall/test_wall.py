"""The operations-centre wall: its socket's right (who, which area, for how long), one
channel-layer group per area, and the throttle that coalesces changes into pushes."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache

from accounts.choices import Role
from accounts.models import RoleAssignment
from accounts.services import issue_socket_ticket, revoke_role
from analytics import wall
from analytics.wall import wall_group
from cases.models import Case
from core.api.asyncapi import asyncapi_document
from tests.chat.conftest import next_of
from tests.chat.test_asyncapi import check
from tests.factories import grant


async def _connect(path: str, user=None):
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    if user is not None:
        ticket, _seconds = await database_sync_to_async(issue_socket_ticket)(user=user)
        path += ("&" if "?" in path else "?") + f"ticket={ticket}"
    socket = WebsocketCommunicator(application, path)
    connected, _subprotocol = await socket.connect(timeout=5)
    assert connected
    return socket


async def open_socket(path: str, user=None):
    """A wall socket (``path`` may carry ``?area=``) and its first frame."""
    socket = await _connect(path, user)
    return socket, await socket.receive_json_from(timeout=5)


async def refused(path: str, user=None) -> tuple[dict, int]:
    """A wall socket that should be refused: its error frame and close code."""
    socket = await _connect(path, user)
    error = await socket.receive_json_from(timeout=5)
    closing = await socket.receive_output(timeout=5)
    assert closing["type"] == "websocket.close"
    await socket.disconnect()
    return error, closing["code"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _pushes_in_this_process(settings):
    """The throttle's logic runs here, whatever the set-up: with Redis (production and
    CI's PostgreSQL pass) tasks are not eager and a push would wait in the broker for a
    worker these tests do not run. The queued path has its own test below."""
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.mark.django_db
def test_with_a_broker_the_push_and_the_windows_end_are_queued_for_the_worker(
    settings, monkeypatch
):
    from analytics import tasks

    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued: list[tuple] = []
    monkeypatch.setattr(tasks.wall_push, "delay", lambda *a: queued.append(("push", a)))
    monkeypatch.setattr(
        tasks.wall_window_ended,
        "apply_async",
        lambda args, countdown: queued.append(("window_end", args, countdown)),
    )
    monkeypatch.setattr(wall, "push_figures", lambda group: pytest.fail("pushed in the request"))
    group = wall_group(None)
    wall.changed(group)
    assert queued == [
        ("push", (group,)),
        ("window_end", (group,), float(settings.JINSHAO_WALL_PUSH_SECONDS)),
    ]


@pytest.fixture
def no_timers(monkeypatch):
    """The window ends when the test says so (not in a timer thread): the list of groups
    whose window end was scheduled."""
    scheduled: list[str] = []
    monkeypatch.setattr(wall, "schedule_window_end", scheduled.append)
    return scheduled


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_threads")
async def test_a_leader_sees_todays_figures_of_their_area(world, case_in):
    await database_sync_to_async(case_in)("in_progress")
    socket, first = await open_socket("/ws/wall/", world.leader)
    assert first["type"] == "wall"
    check({"type": "wall", "figures": first["figures"]}, "Wall")
    figures = first["figures"]
    assert figures["area"] == {"id": world.town.pk, "name": "南桥镇", "level": 2}
    assert figures["raised"] == 1 and figures["in_progress"] == 1
    assert figures["map_level"] == "grid"
    assert figures["map"] == {str(world.grid.pk): 1}
    await socket.send_json_to({"type": "ping"})
    check(await next_of(socket, "pong"))
    await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_threads")
async def test_only_leaders_commanders_and_auditors_of_the_area(world):
    error, code = await refused("/ws/wall/")
    assert (error["code"], code) == ("not_authenticated", 4401)
    error, code = await refused("/ws/wall/", world.official)  # a village official
    assert (error["code"], code) == ("permission_denied", 4403)
    check(error)
    error, code = await refused(f"/ws/wall/?area={world.district.pk}", world.commander)
    assert code == 4403  # the district is above the commander's grid
    error, code = await refused("/ws/wall/?area=999999", world.leader)
    assert (error["code"], code) == ("not_found", 4404)
    # The commander may open their grid and a community in it; an auditor the district.
    socket, first = await open_socket(f"/ws/wall/?area={world.community.pk}", world.commander)
    assert first["figures"]["area"]["id"] == world.community.pk
    await socket.disconnect()
    socket, first = await open_socket("/ws/wall/", world.auditor)
    assert first["figures"]["area"] is None and first["figures"]["map_level"] == "town"
    await socket.disconnect()
    for code in ("4401", "4403", "4404"):
        assert code in asyncapi_document()["info"]["description"]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_threads")
async def test_a_wall_closes_when_its_person_loses_the_area(world):
    socket, _first = await open_socket("/ws/wall/", world.commander)

    def take_the_role():
        assignment = RoleAssignment.objects.get(user=world.commander, role=Role.COMMANDER)
        revoke_role(assignment, actor=world.sysadmin)

    await database_sync_to_async(take_the_role)()
    error = await next_of(socket, "error")
    assert error["code"] == "forbidden"
    closing = await socket.receive_output(timeout=5)
    assert closing == {"type": "websocket.close", "code": 4403}


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_threads")
async def test_the_whole_districts_wall_closes_when_its_person_sees_only_a_town(world):
    """An auditor who is also a town's leader opens the district's wall; once no longer an
    auditor, the wall does not narrow itself to the town: it closes."""

    def lead_the_town():
        grant(world.auditor, Role.LEADER, area=world.town)

    await database_sync_to_async(lead_the_town)()
    socket, first = await open_socket("/ws/wall/", world.auditor)
    assert first["figures"]["area"] is None

    def stop_auditing():
        assignment = RoleAssignment.objects.get(user=world.auditor, role=Role.AUDITOR)
        revoke_role(assignment, actor=world.superuser)

    await database_sync_to_async(stop_auditing)()
    error = await next_of(socket, "error")
    assert error["code"] == "forbidden" and "全区" in error["message"]
    closing = await socket.receive_output(timeout=5)
    assert closing == {"type": "websocket.close", "code": 4403}


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_threads")
async def test_a_change_reaches_the_walls_above_the_case_and_no_other(world, case_in, no_timers):
    """One group per area: a case in 曙光村 reaches the town's and the grid's walls, not the
    wall of the neighbouring community 华严村."""
    town, _ = await open_socket("/ws/wall/", world.leader)
    grid, _ = await open_socket("/ws/wall/", world.commander)
    neighbour, _ = await open_socket(f"/ws/wall/?area={world.other_community.pk}", world.commander)

    await database_sync_to_async(case_in)("dispatched")  # in 曙光村 (world.community)
    # The case was saved as a draft first (pushed at once), then dispatched inside the
    # window: the window's end pushes the dispatched case.
    assert wall_group(world.other_community.pk) not in no_timers
    for group in set(no_timers):
        await database_sync_to_async(wall.window_ended)(group)

    for socket in (town, grid):
        await next_of(socket, "wall")  # the leading push
        pushed = await next_of(socket, "wall")
        check(pushed)
        assert pushed["figures"]["raised"] == 1
        assert pushed["figures"]["latest"][0]["community"] == "曙光村"
    assert await neighbour.receive_nothing(timeout=0.5)


@pytest.mark.django_db
def test_n_changes_in_a_window_make_one_push_and_the_last_is_not_lost(
    world, case_in, no_timers, monkeypatch, django_capture_on_commit_callbacks
):
    pushed: list[tuple[str, dict]] = []
    monkeypatch.setattr(wall, "push", lambda group, payload: pushed.append((group, payload)))
    group = wall_group(world.grid.pk)
    with_grid = lambda: [p for g, p in pushed if g == group]  # noqa: E731
    wall.watching(group)  # a wall of the grid is open

    with django_capture_on_commit_callbacks(execute=True):
        case = case_in("dispatched")  # the first change opens the window: pushed at once
    assert len(with_grid()) == 1 and with_grid()[0]["figures"]["raised"] == 1
    for _ in range(9):  # nine more inside the window: only marked
        wall.changed(group)
    Case.objects.filter(pk=case.pk).update(state="in_progress")
    assert len(with_grid()) == 1
    assert no_timers.count(group) == 1

    wall.window_ended(group)  # the window's end: one push with the latest figures
    assert len(with_grid()) == 2
    assert with_grid()[1]["figures"]["in_progress"] == 1
    wall.window_ended(group)  # a quiet window: nothing more, and the window closes
    assert len(with_grid()) == 2
    wall.changed(group)  # so the next change is pushed at once again
    assert len(with_grid()) == 3


@pytest.mark.django_db
def test_the_throttle_holds_across_processes(world, no_timers, monkeypatch):
    """The window lives in the shared cache, not in a process: a change seen by "another
    worker" (another call with the same cache) inside the window is only marked."""
    pushed: list[str] = []
    monkeypatch.setattr(wall, "push_figures", pushed.append)
    group = wall_group(world.town.pk)
    wall.watching(group)
    wall.changed(group)
    assert cache.get(f"wall:window:{group}") is not None
    wall.changed(group)
    wall.changed(group)
    assert pushed == [group]
    wall.window_ended(group)
    assert pushed == [group, group]


@pytest.mark.django_db
def test_areas_nobody_watches_cost_nothing(
    world, case_in, no_timers, monkeypatch, django_capture_on_commit_callbacks
):
    """No wall open: a change reads nothing and pushes nothing. A wall of the grid open:
    only the grid's group is pushed to, not the town's or the district's."""
    pushed: list[str] = []
    monkeypatch.setattr(wall, "push_figures", pushed.append)
    with django_capture_on_commit_callbacks(execute=True):
        case_in("dispatched")
    assert pushed == [] and no_timers == []
    wall.watching(wall_group(world.grid.pk))
    with django_capture_on_commit_callbacks(execute=True):
        case_in("dispatched")
    assert pushed == [wall_group(world.grid.pk)]


def test_groups_are_per_area():
    assert wall_group(7) == "wall.7" and wall_group(None) == "wall.all"
    get_channel_layer().require_valid_group_name(wall_group(123456789))


@pytest.mark.django_db
def test_the_figures_count_today_and_what_is_open_now(world, case_in):
    """Raised and closed count today only; in progress and overdue count every open case;
    the latest cases and the escalations are listed newest first."""
    from datetime import timedelta

    from django.utils import timezone

    from cases.models import CaseEvent

    now = timezone.now()
    late = case_in("in_progress")  # open past its deadline: in progress and overdue
    Case.objects.filter(pk=late.pk).update(deadline=now - timedelta(hours=1))
    old_open = case_in("dispatched")  # raised two days ago, still open
    Case.objects.filter(pk=old_open.pk).update(created_at=now - timedelta(days=2))
    closed_today = case_in("in_progress")
    Case.objects.filter(pk=closed_today.pk).update(state="closed", closed_at=now)
    closed_before = case_in("in_progress")
    Case.objects.filter(pk=closed_before.pk).update(
        state="closed", created_at=now - timedelta(days=3), closed_at=now - timedelta(days=2)
    )
    CaseEvent.objects.create(case=late, kind="escalated", note="")
    case_in("draft")  # never raised: nowhere

    figures = wall.figures(wall.today_scope(world.town))
    assert (figures["raised"], figures["in_progress"], figures["overdue"], figures["closed"]) == (
        2,  # late, closed_today
        2,  # late, old_open
        1,  # late
        1,  # closed_today
    )
    assert [c["id"] for c in figures["latest"]] == [
        closed_today.pk,
        late.pk,
        old_open.pk,
        closed_before.pk,
    ]
    assert [(e["kind"], e["case"]["id"]) for e in figures["escalations"]] == [
        ("escalated", late.pk)
    ]
    assert figures["map"] == {str(world.grid.pk): 2}
    # Another town's wall sees none of it.
    from grids.choices import AreaLevel
    from tests.factories import make_area

    elsewhere = make_area(AreaLevel.TOWN, world.district, code="310120102", name="奉城镇")
    nothing = wall.figures(wall.today_scope(elsewhere))
    assert (nothing["raised"], nothing["in_progress"], nothing["latest"]) == (0, 0, [])
