"""``/ws/cases/{id}/``: a case's room, live.

Frames from the phone:
- ``{"type": "message", "text": …, "client_id": …}`` sends a text message. It
  is acknowledged with ``{"type": "ack", "id", "client_id", "duplicate"}`` and
  then arrives to everyone, the sender included, as ``{"type": "message"}``;
- ``{"type": "resume", "after": id}`` gets ``{"type": "history", "messages",
  "has_more"}`` pages of what came after ``id``, oldest first;
- ``{"type": "read", "up_to": id}`` moves the read mark forward;
- ``{"type": "ping"}`` gets a pong.

Photos, voice notes, videos and files are uploaded over HTTP
(``POST /api/v1/cases/{id}/messages/``) and arrive here like any message.
"""

from __future__ import annotations

from collections import deque

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from cases.models import Case
from chat import presence, selectors, services
from chat.models import Message, ReadState
from chat.payloads import message_payload
from core.errors import ValidationFailed
from core.realtime import apush_many, room_group
from core.sockets import (
    CLOSE_FORBIDDEN,
    CLOSE_NOT_FOUND,
    JsonSocket,
)

#: How many recent message ids a socket remembers to never send one twice.
SENT_MEMORY = 2000


class CaseRoomConsumer(JsonSocket):
    handlers = {
        "message": "on_message",
        "resume": "on_resume",
        "read": "on_read",
        "ping": "on_ping",
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.case: Case | None = None
        self.joined = False
        self.sent_order: deque[int] = deque(maxlen=SENT_MEMORY)
        self.sent: set[int] = set()

    # -------------------------------------------------------------- connect

    async def connect(self) -> None:
        user = self.scope.get("user")
        case_id = self.scope["url_route"]["kwargs"]["case_id"]
        if await self.refused_anonymous():
            return
        with translation.override(self.language):
            verdict = await database_sync_to_async(self._admit)(case_id, user)
            if verdict == "not_found":
                await self.refuse(CLOSE_NOT_FOUND, "not_found", _("No such case."))
                return
            if verdict == "not_member":
                await self.refuse(
                    CLOSE_FORBIDDEN, "not_participant", _("You are not in the room of this case.")
                )
                return
            assert self.case is not None
            await self.accept()
            await self.join_group(room_group(self.case.pk))
            await self.join_person()
            self.joined = True
            await database_sync_to_async(presence.enter)(self.case.pk, user.pk)
            await self.send_json(await database_sync_to_async(self._hello)(user))

    def _admit(self, case_id: int, user) -> str:
        case = Case.objects.visible_to(user).select_related("community").filter(pk=case_id).first()
        if case is None:
            return "not_found"
        if not selectors.is_member(case, user):
            return "not_member"
        self.case = case
        return "ok"

    def _hello(self, user) -> dict:
        assert self.case is not None
        last = (
            Message.objects.filter(case=self.case).order_by("-id").values_list("id", flat=True)
        ).first()
        read = (
            ReadState.objects.filter(case=self.case, user=user)
            .values_list("last_read_id", flat=True)
            .first()
        )
        return {
            "type": "hello",
            "case": {"id": self.case.pk, "number": self.case.number, "state": self.case.state},
            "last_message_id": last or 0,
            "last_read_id": read or 0,
        }

    async def disconnect(self, code) -> None:
        if not self.joined or self.case is None:
            return
        self.joined = False
        await self.leave_groups()
        await database_sync_to_async(presence.leave)(self.case.pk, self.scope["user"].pk)

    # -------------------------------------------------------------- frames

    async def on_message(self, frame: dict) -> None:
        assert self.case is not None
        posted = await database_sync_to_async(services.post_text)(
            self.case,
            sender=self.scope["user"],
            text=frame.get("text"),
            client_id=frame.get("client_id") or "",
            deliver=False,
        )
        await self.send_json(
            {
                "type": "ack",
                "id": posted.message.pk,
                "client_id": posted.message.client_id,
                "duplicate": not posted.created,
            }
        )
        if posted.created and posted.pushes:
            delivered = (await apush_many(posted.pushes))[0]  # on this loop: no thread hop
            if not delivered:
                await self.send_error(
                    "live_delivery_failed",
                    _("Saved, but not delivered live: the others will get it when they reconnect."),
                    id=posted.message.pk,
                )

    async def on_resume(self, frame: dict) -> None:
        after = frame.get("after", 0)
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ValidationFailed(
                _("Give the id of the last message you have."),
                fields={"after": [_("A whole number of 0 or more.")]},
            )
        assert self.case is not None
        page = settings.JINSHAO_CHAT_PAGE
        while True:
            messages, has_more = await database_sync_to_async(self._page)(after, page)
            fresh = [m for m in messages if m["id"] not in self.sent]
            for message in fresh:
                self._remember(message["id"])
            await self.send_json({"type": "history", "messages": fresh, "has_more": has_more})
            if not has_more:
                return
            after = messages[-1]["id"]

    def _page(self, after: int, limit: int) -> tuple[list[dict], bool]:
        assert self.case is not None
        messages, has_more = services.history(self.case, after=after, limit=limit)
        return [message_payload(m) for m in messages], has_more

    async def on_read(self, frame: dict) -> None:
        assert self.case is not None
        last = await database_sync_to_async(services.mark_read)(
            self.case, user=self.scope["user"], up_to=frame.get("up_to")
        )
        await self.send_json({"type": "read", "last_read_id": last})

    async def on_ping(self, frame: dict) -> None:
        assert self.case is not None
        await database_sync_to_async(presence.touch)(self.case.pk, self.scope["user"].pk)
        await self.send_json({"type": "pong"})

    # -------------------------------------------------------------- from the layer

    def _remember(self, message_id: int) -> None:
        if len(self.sent_order) == self.sent_order.maxlen:
            self.sent.discard(self.sent_order[0])
        self.sent_order.append(message_id)
        self.sent.add(message_id)

    async def chat_message(self, event: dict) -> None:
        """A message pushed to the room: forwarded only while the person may still be here."""
        message = event["message"]
        if message["id"] in self.sent:  # already sent by a resume
            return
        if not await self.may_forward():
            return
        self._remember(message["id"])
        await self.send_json({"type": "message", "message": message})

    def access_refusal(self, user) -> tuple[int, str, str] | None:
        """The account's conditions (``JsonSocket``), then membership of the room, now
        (the case read again: its community or the area tree may have changed)."""
        refusal = super().access_refusal(user)
        if refusal is not None:
            return refusal
        assert self.case is not None
        # The case as it is now: its community, and the area tree above it, may have moved.
        case = Case.objects.select_related("community").filter(pk=self.case.pk).first()
        if case is None:
            return CLOSE_FORBIDDEN, "removed", _("You are no longer in the room of this case.")
        self.case = case
        if not selectors.is_member(self.case, user):
            return CLOSE_FORBIDDEN, "removed", _("You are no longer in the room of this case.")
        return None

    async def room_recheck(self, event: dict) -> None:
        """Someone left the case (withdrawn, returned, declined), or its area moved
        (``grids.receivers``): if this socket's person is out, show them out."""
        if not self.ended:
            await self.still_allowed()
