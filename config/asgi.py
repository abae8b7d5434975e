"""ASGI entry point, served by uvicorn (see README): HTTP and WebSockets."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_asgi_application()  # sets Django up before the imports below

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.sessions import CookieMiddleware, SessionMiddleware  # noqa: E402
from django.conf import settings  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from core.sockets import SocketAuthMiddleware  # noqa: E402

http_application = django_application
if settings.JINSHAO_SERVE_STATIC:
    # The embedded demo has no proxy in front: serve the admin's static files
    # from the apps themselves. Production turns this off (collectstatic + proxy).
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    http_application = ASGIStaticFilesHandler(django_application)

websocket_application = CookieMiddleware(
    SessionMiddleware(SocketAuthMiddleware(URLRouter(websocket_urlpatterns)))
)


async def lifespan_application(scope, receive, send) -> None:
    """Start the in-process scheduler with the server (embedded default; see core.scheduler)."""
    from core import scheduler

    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            scheduler.start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            scheduler.stop()
            await send({"type": "lifespan.shutdown.complete"})
            return


application = ProtocolTypeRouter(
    {"http": http_application, "websocket": websocket_application, "lifespan": lifespan_application}
)
