"""ASGI entry point, served by uvicorn (see README)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()

from django.conf import settings  # noqa: E402  (settings are ready only now)

if settings.JINSHAO_SERVE_STATIC:
    # The embedded demo has no proxy in front: serve the admin's static files
    # from the apps themselves. Production turns this off (collectstatic + proxy).
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    application = ASGIStaticFilesHandler(application)
