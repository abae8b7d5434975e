"""WebSocket URLs (DESIGN.md): a case's room, a person's own feed, an area's wall."""

from django.urls import path, re_path

from analytics.consumers import WallConsumer
from chat.consumers import CaseRoomConsumer
from core.sockets import NoRouteConsumer
from notifications.consumers import NotificationConsumer

websocket_urlpatterns = [
    path("ws/cases/<int:case_id>/", CaseRoomConsumer.as_asgi()),
    path("ws/notifications/", NotificationConsumer.as_asgi()),
    path("ws/wall/", WallConsumer.as_asgi()),
    re_path(r"", NoRouteConsumer.as_asgi()),
]
