"""The application of ``config.asgi`` plus a bare Channels echo room, for the baseline.

``/ws/echo/<room>/`` joins a group and relays every text frame to it through
the channel layer, then acknowledges it to the sender. It has no login, no
database and no checks: what remains is the cost of Channels, the layer and
the server, against which the real room is measured (``bench/chat_fanout.py``).
"""

from __future__ import annotations

import json

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path

from config.asgi import http_application, websocket_application


class BareEchoRoom(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.group = f"echo.{self.scope['url_route']['kwargs']['room']}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send(text_data=json.dumps({"type": "hello"}))

    async def receive(self, text_data=None, bytes_data=None) -> None:
        frame = json.loads(text_data)
        await self.channel_layer.group_send(
            self.group, {"type": "echo.message", "message": {"text": frame["text"]}}
        )
        await self.send(text_data=json.dumps({"type": "ack", "client_id": frame["client_id"]}))

    async def echo_message(self, event) -> None:
        await self.send(text_data=json.dumps({"type": "message", "message": event["message"]}))


echo_router = URLRouter([path("ws/echo/<str:room>/", BareEchoRoom.as_asgi())])


async def websocket(scope, receive, send):
    if scope["path"].startswith("/ws/echo/"):
        return await echo_router(scope, receive, send)
    return await websocket_application(scope, receive, send)


application = ProtocolTypeRouter({"http": http_application, "websocket": websocket})
