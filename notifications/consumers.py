"""``/ws/notifications/``: a person's own live feed.

Pushed frames:
- ``{"type": "notification", "notification": …}``: a new inbox entry, in the
  same shape as ``GET /api/v1/notifications/``;
- ``{"type": "message_alert", "case", "message"}``: a message in one of the
  person's rooms while they do not have that room open.

From the phone: ``{"type": "read", "id": …}`` and ``{"type": "ping"}``.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from django.utils.translation import gettext as _

from core.errors import ValidationFailed
from core.realtime import user_group
from core.sockets import JsonSocket
from notifications import services
from notifications.models import Notification


class NotificationConsumer(JsonSocket):
    handlers = {"read": "on_read", "ping": "on_ping"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.joined = False

    async def connect(self) -> None:
        user = self.scope.get("user")
        if await self.refused_anonymous():
            return
        await self.accept()
        await self.join_group(user_group(user.pk))
        await self.join_person()
        self.joined = True
        unread = await database_sync_to_async(
            lambda: Notification.objects.unread().filter(recipient=user).count()
        )()
        await self.send_json({"type": "hello", "unread": unread})

    async def disconnect(self, code) -> None:
        if self.joined:
            self.joined = False
            await self.leave_groups()

    async def on_read(self, frame: dict) -> None:
        notification_id = frame.get("id")
        if isinstance(notification_id, bool) or not isinstance(notification_id, int):
            raise ValidationFailed(
                _("Give the id of the notification."), fields={"id": [_("A whole number.")]}
            )
        user = self.scope["user"]

        def mark() -> bool:
            notification = Notification.objects.filter(pk=notification_id, recipient=user).first()
            if notification is None:
                return False
            services.mark_read(notification, actor=user)
            return True

        if not await database_sync_to_async(mark)():
            await self.send_error("not_found", _("No such notification."))
            return
        await self.send_json({"type": "read", "id": notification_id})

    async def on_ping(self, frame: dict) -> None:
        await self.send_json({"type": "pong"})

    async def notification_new(self, event: dict) -> None:
        """Pushed frames are forwarded only while the account may still hold the feed."""
        if not await self.may_forward():
            return
        await self.send_json({"type": "notification", "notification": event["notification"]})

    async def chat_alert(self, event: dict) -> None:
        if not await self.may_forward():
            return
        await self.send_json(
            {"type": "message_alert", "case": event["case"], "message": event["message"]}
        )
