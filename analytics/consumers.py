"""``/ws/wall/?area=<id>``: the operations-centre wall of one area, live.

Who: leaders, grid leaders and commanders for their own area and below,
auditors for any (``analytics.scope.resolve_scope``); without ``area``, the
asker's own area (the whole district for auditors). Refused with a reason and
closed: 4401 not logged in, 4403 not allowed (this area or the wall at all),
4404 no such area.

Pushed frames: ``{"type": "wall", "figures": …}`` on connect and whenever the
area's cases change, at most once per ``JINSHAO_WALL_PUSH_SECONDS`` per area
(``analytics.wall``: one channel-layer group per area, shared by every wall
showing it). From the screen: ``{"type": "ping"}`` → ``{"type": "pong"}``, at least
every minute: it keeps the area marked as watched (``analytics.wall.watching``); an
area nobody watches is not pushed to.

The socket lives only while its person may still see the area: a change of
their roles or account (``core.realtime.access_changed``) re-checks it, and a
pushed frame is forwarded only after a recent check (``JsonSocket``).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import translation
from django.utils.translation import gettext as _

from analytics import wall
from analytics.scope import resolve_scope
from core.errors import PermissionDenied, ValidationFailed
from core.sockets import CLOSE_FORBIDDEN, CLOSE_NOT_FOUND, JsonSocket


class WallConsumer(JsonSocket):
    handlers = {"ping": "on_ping"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.joined = False
        self.asked_area: int | None = None
        self.area_id: int | None = None

    def _asked(self) -> int | None | str:
        """The ``area`` of the query string: an id, None when absent, "bad" when not a number."""
        params = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        raw = (params.get("area") or [""])[0]
        if not raw:
            return None
        return int(raw) if raw.isdigit() and int(raw) > 0 else "bad"

    async def connect(self) -> None:
        if await self.refused_anonymous():
            return
        asked = self._asked()
        with translation.override(self.language):
            if asked == "bad":
                await self.refuse(CLOSE_NOT_FOUND, "not_found", _("No such area."))
                return
            self.asked_area = asked  # type: ignore[assignment]
            try:
                area, first = await database_sync_to_async(self._open)()
            except PermissionDenied as exc:
                await self.refuse(CLOSE_FORBIDDEN, exc.code, str(exc))
                return
            except ValidationFailed as exc:
                await self.refuse(CLOSE_NOT_FOUND, "not_found", str(exc))
                return
        self.area_id = area.pk if area is not None else None
        await self.accept()
        await self.join_group(wall.wall_group(self.area_id))
        await database_sync_to_async(wall.watching)(wall.wall_group(self.area_id))
        await self.join_person()
        self.joined = True
        await self.send_json({"type": "wall", "figures": first})

    def _open(self):
        scope = resolve_scope(self.scope["user"], area_id=self.asked_area, first=None, last=None)
        figures = wall.figures(wall.today_scope(scope.area))
        return scope.area, json.loads(json.dumps(figures, cls=DjangoJSONEncoder))

    async def disconnect(self, code) -> None:
        if self.joined:
            self.joined = False
            await self.leave_groups()

    def access_refusal(self, user) -> tuple[int, str, str] | None:
        """The account's conditions, then the right to see this very area, now (the area
        the wall opened on, even when it was asked for as "my area")."""
        refusal = super().access_refusal(user)
        if refusal is not None:
            return refusal
        try:
            scope = resolve_scope(user, area_id=self.area_id, first=None, last=None)
        except (PermissionDenied, ValidationFailed) as exc:
            return CLOSE_FORBIDDEN, "forbidden", str(exc)
        if self.area_id is None and scope.area is not None:
            # The whole district's wall, and the person no longer sees everything.
            return (
                CLOSE_FORBIDDEN,
                "forbidden",
                _("You may not see indicators of %(area)s.") % {"area": _("The whole district")},
            )
        return None

    async def on_ping(self, frame: dict) -> None:
        """The wall is still open: its area stays watched (``analytics.wall.watching``)."""
        await database_sync_to_async(wall.watching)(wall.wall_group(self.area_id))
        await self.send_json({"type": "pong"})

    async def wall_figures(self, event: dict) -> None:
        """The group's fresh figures: forwarded while the person may still see them."""
        if not await self.may_forward():
            return
        await self.send_json({"type": "wall", "figures": event["figures"]})
