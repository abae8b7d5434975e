"""The operations-centre wall: today's figures of one area, pushed live when its cases change.

Figures (``figures(scope)``), for the local day (Asia/Shanghai) and the
scope's area (the whole district when ``scope.area`` is None):

- ``raised``: cases raised today (drafts never were; cancelled ones count);
- ``in_progress``: cases open now, dispatched or being handled (whenever raised);
- ``overdue``: cases open now past their handling deadline (whenever raised);
- ``closed``: cases closed today;
- ``latest``: the 8 cases raised last (any day), newest first;
- ``escalations``: the 8 latest escalations and overdue marks (any day), newest first;
- ``map``: ``{area id: cases raised today}`` for the areas one level below the
  scope's (towns for the district; communities below a community's own level
  are not drawn: a community's wall maps itself);
- ``at``: when the figures were read (ISO 8601).

Pushing: one channel-layer group per area (``wall_group``), never one per
socket. An open wall marks its group watched in the shared cache (``watching``;
renewed by its pings); areas nobody watches cost nothing. A committed change to
a case calls ``case_moved``, which throttles each watched area above the case
through the shared cache, so it holds across ASGI workers and Celery:

- the first change of a quiet area opens a window (``cache.add``, atomic) and
  pushes at once: the group gets one ``wall`` frame with fresh figures, read
  after the change committed;
- changes inside the window only set the area's dirty mark;
- at the window's end (``JINSHAO_WALL_PUSH_SECONDS`` later) ``window_ended``
  pushes once more if the mark was set, and keeps the window open, else
  closes it. So a burst of N changes gives at most one push per window and
  the last change is never left out.

The window's end is a Celery task with a countdown (Redis deployments); with
eager tasks (the demo: one process, the in-memory channel layer) a timer thread
of the process stands in (``schedule_window_end``).
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, Q
from django.utils import timezone

from analytics.scope import Scope
from cases.choices import CaseState, EventKind
from cases.models import CaseEvent
from core.dates import local_day_bounds
from core.realtime import push
from grids.choices import AreaLevel
from grids.models import Area

logger = logging.getLogger(__name__)

LATEST = 8
OPEN_STATES = (CaseState.DISPATCHED, CaseState.IN_PROGRESS)
ESCALATION_KINDS = (EventKind.ESCALATED, EventKind.OVERDUE)
#: Open cases and the latest ones are read whenever raised.
SINCE_EVER = datetime(2000, 1, 1, tzinfo=UTC)
#: The group of walls showing the whole district (auditors, no area).
EVERYTHING = "all"
#: The watch mark of "some wall is open somewhere".
ANY = "wall.any"
#: Seconds a wall's watch mark lasts; an open wall renews it with its pings (every 30 s).
WATCH_SECONDS = 90


def wall_group(area_id: int | None) -> str:
    """The channel-layer group of every wall showing ``area_id`` (None: the whole district)."""
    return f"wall.{EVERYTHING if area_id is None else area_id}"


def today_scope(area: Area | None) -> Scope:
    start, end = local_day_bounds(timezone.localdate())
    return Scope(start=start, end=end, area=area)


def figures(scope: Scope) -> dict:
    """Today's figures of ``scope.area`` (the module docstring); seven queries."""
    today = scope.cases()
    everything = Scope(start=SINCE_EVER, end=scope.end, area=scope.area)
    live = everything.cases()
    now = timezone.now()
    counts = today.aggregate(raised=Count("pk"))
    open_counts = live.filter(state__in=OPEN_STATES).aggregate(
        in_progress=Count("pk"),
        overdue=Count("pk", filter=Q(deadline__lt=now, completed_at__isnull=True)),
    )
    closed = live.filter(
        state=CaseState.CLOSED, closed_at__gte=scope.start, closed_at__lt=scope.end
    ).count()
    latest = [
        _case_row(c)
        for c in live.select_related("community", "category").order_by("-created_at", "-pk")[
            :LATEST
        ]
    ]
    events = (
        CaseEvent.objects.filter(kind__in=ESCALATION_KINDS, case__in=live.values("pk"))
        .select_related("case", "case__community")
        .order_by("-created_at", "-pk")[:LATEST]
    )
    return {
        "area": _area_row(scope.area),
        "raised": counts["raised"],
        "in_progress": open_counts["in_progress"],
        "overdue": open_counts["overdue"],
        "closed": closed,
        "latest": latest,
        "escalations": [
            {
                "id": e.pk,
                "kind": e.kind,
                "label": str(e.get_kind_display()),
                "at": e.created_at,
                "case": {"id": e.case_id, "number": e.case.number, "title": e.case.title},
                "community": e.case.community.name,
            }
            for e in events
        ],
        "map_level": map_level(scope.area),
        "map": _map_values(scope),
        "at": now,
    }


def _area_row(area: Area | None) -> dict | None:
    if area is None:
        return None
    return {"id": area.pk, "name": area.name, "level": area.level}


def _case_row(case) -> dict:
    return {
        "id": case.pk,
        "number": case.number,
        "title": case.title,
        "state": case.state,
        "state_label": str(case.get_state_display()),
        "community": case.community.name,
        "category": case.category.name if case.category_id else None,
        "created_at": case.created_at,
    }


def map_level(area: Area | None) -> str:
    """The level the wall's map draws: one below the area's (community at most)."""
    from analytics.maps import LEVELS

    below = AreaLevel.TOWN if area is None else min(area.level + 1, AreaLevel.COMMUNITY)
    return next(name for name, level in LEVELS.items() if level == below)


def _map_values(scope: Scope) -> dict[str, int]:
    from analytics.maps import LEVELS, _areas_of, _sums_per_area

    level = LEVELS[map_level(scope.area)]
    places = _areas_of(scope, level)
    sums = _sums_per_area(scope, places, level, None)
    return {str(p["pk"]): sums[p["pk"]]["cases"] if p["pk"] in sums else 0 for p in places}


# ---------------------------------------------------------------- pushing


def _window_key(group: str) -> str:
    return f"wall:window:{group}"


def _dirty_key(group: str) -> str:
    return f"wall:dirty:{group}"


def watching(group: str) -> None:
    """A wall of ``group`` is open (on connect, and on each of its pings): keep the group,
    and walls at all, marked as watched for ``WATCH_SECONDS``."""
    cache.set_many({_watch_key(group): 1, _watch_key(ANY): 1}, timeout=WATCH_SECONDS)


def _watch_key(group: str) -> str:
    return f"wall:watched:{group}"


def groups_of(community_id: int | None, path: str | None = None) -> list[str]:
    """The wall groups a case of ``community_id`` (at ``path``, when known) shows on: each
    area above it, and the whole district's."""
    groups = [wall_group(None)]
    if path is None and community_id:
        path = Area.objects.filter(pk=community_id).values_list("path", flat=True).first()
    if path:
        codes = path.strip("/").split("/")
        prefixes = ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]
        ids = Area.objects.filter(path__in=prefixes).values_list("pk", flat=True)
        groups += [wall_group(pk) for pk in ids]
    return groups


def case_moved(community_id: int | None, path: str | None = None) -> None:
    """A case of ``community_id`` changed (called after its transaction committed).

    Nothing at all while no wall is open anywhere (one cache read); else the
    watched groups above the case go through the throttle (``changed``). Cache
    operations only: the figures are read by the push, in a Celery task when
    tasks are not eager.
    """
    if not cache.get(_watch_key(ANY)):
        return
    groups = groups_of(community_id, path)
    watched = cache.get_many([_watch_key(g) for g in groups])
    for group in groups:
        if _watch_key(group) in watched:
            changed(group)


def changed(group: str) -> None:
    """One change for ``group``: push now if its window was closed, else mark it dirty."""
    cache.set(_dirty_key(group), 1, timeout=_window_seconds() * 20)
    if cache.add(_window_key(group), 1, timeout=_window_seconds() * 10):
        cache.delete(_dirty_key(group))  # this push reads every change committed so far
        push_soon(group)
        schedule_window_end(group)


def window_ended(group: str) -> None:
    """The end of ``group``'s window: push once more if anything changed during it.

    Runs in the Celery worker (or the demo's timer thread): it reads and pushes the
    figures itself, without another hop through the queue.
    """
    if cache.delete(_dirty_key(group)):
        cache.touch(_window_key(group), timeout=_window_seconds() * 10)
        push_figures(group)
        schedule_window_end(group)
        return
    cache.delete(_window_key(group))
    # A change between the check above and the delete found the window still open and
    # only marked it dirty: take it now (or it opened a window of its own and pushed).
    if cache.get(_dirty_key(group)) and cache.add(
        _window_key(group), 1, timeout=_window_seconds() * 10
    ):
        cache.delete(_dirty_key(group))
        push_figures(group)
        schedule_window_end(group)


def push_soon(group: str) -> None:
    """``push_figures(group)``: in a Celery task, or here when tasks are eager."""
    from analytics.tasks import wall_push

    if settings.CELERY_TASK_ALWAYS_EAGER:
        push_figures(group)
        return
    try:
        wall_push.delay(group)
    except Exception:  # broker down: the window's end or the next change tries again
        logger.exception("analytics.wall_push_not_scheduled")


def _window_seconds() -> float:
    return float(settings.JINSHAO_WALL_PUSH_SECONDS)


def schedule_window_end(group: str) -> None:
    """Run ``window_ended(group)`` after the window: a Celery countdown, or (eager tasks:
    one process) a daemon timer thread."""
    from analytics.tasks import wall_window_ended

    seconds = _window_seconds()
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        try:
            wall_window_ended.apply_async((group,), countdown=seconds)
            return
        except Exception:  # broker down: the group's next change after the TTL pushes again
            logger.exception("analytics.wall_window_not_scheduled")
            return
    timer = threading.Timer(seconds, _run_in_thread, args=(group,))
    timer.daemon = True
    timer.start()


def _run_in_thread(group: str) -> None:
    from django.db import connections

    try:
        window_ended(group)
    except Exception:
        logger.exception("analytics.wall_window_failed")
    finally:
        connections.close_all()  # this thread's own connections: the thread ends here


def area_of_group(group: str) -> Area | None:
    key = group.split(".", 1)[1]
    return None if key == EVERYTHING else Area.objects.filter(pk=int(key)).first()


def push_figures(group: str) -> bool:
    """Read the group's figures once and send them to every wall of the group."""
    area = area_of_group(group)
    if area is None and group != wall_group(None):
        return False
    # Plain JSON values: the Redis layer's msgpack carries no datetimes.
    fresh = json.loads(json.dumps(figures(today_scope(area)), cls=DjangoJSONEncoder))
    return push(group, {"type": "wall.figures", "figures": fresh})
