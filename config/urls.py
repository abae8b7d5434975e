"""Root URLs: the phone app at the root, the admin back office, the phone API and its schema."""

from pathlib import Path

from csp.decorators import csp_exempt
from django.contrib import admin
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.urls import include, path, re_path
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

import config.admin  # noqa: F401  (site titles)
from accounts.views import second_factor
from analytics.admin_views import accept_suggestion, dashboard
from core import app_shell
from core.api import health
from core.api.asyncapi import asyncapi_view
from core.api.errors import page_not_found
from core.views_metrics import metrics_view


@cache_control(max_age=86400, public=True)
def favicon(request):
    """The tab icon browsers ask for at /favicon.ico (core/static/core/favicon.ico).

    Read whole (2 KB): under ASGI a FileResponse's file iterator is consumed through a
    thread, with a warning on every request.
    """
    return HttpResponse(
        Path(finders.find("core/favicon.ico")).read_bytes(), content_type="image/x-icon"
    )


urlpatterns = [
    path("admin/second-factor/", second_factor, name="second-factor"),
    path("admin/dashboard/", admin.site.admin_view(dashboard), name="analytics-dashboard"),
    path(
        "admin/dashboard/accept-suggestion/",
        admin.site.admin_view(accept_suggestion),
        name="analytics-accept-suggestion",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    # Open311 for city systems and third-party clients: discovery, GeoReport v2 under v2/,
    # and GeoReport's error list for every other address below /open311/ (integrations.open311).
    path("open311/", include("integrations.open311.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The WebSocket frames (AsyncAPI 3.0, docs/asyncapi.yaml).
    path("api/schema/ws/", asyncapi_view, name="schema-ws"),
    # Swagger UI starts with an inline script: the one page outside the CSP.
    path(
        "api/docs/",
        csp_exempt()(SpectacularSwaggerView.as_view(url_name="schema")),
        name="api-docs",
    ),
    path("favicon.ico", favicon, name="favicon"),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    # Prometheus, for the scraper only (404 to anyone else; core.views_metrics).
    path("metrics", metrics_view, name="metrics"),
    # Any other address under /api/ (ending in "/", so a missing slash is still added
    # first) is the API's JSON 404, also with DEBUG on, never Django's list of routes.
    re_path(
        r"^api/(?:.*/)?$", csrf_exempt(page_not_found), {"exception": None}, name="api-not-found"
    ),
    # The phone app (core.app_shell): its hashed files, then its shell at the root and at
    # every address of its own router (anything not the server's own, above).
    re_path(r"^assets/(?P<name>.+)$", app_shell.asset, name="app-asset"),
    path("sw.js", app_shell.service_worker, name="app-service-worker"),
    path("manifest.webmanifest", app_shell.manifest, name="app-manifest"),
    re_path(r"^icons/(?P<name>[^/]+)$", app_shell.icon, name="app-icon"),
    re_path(app_shell.CLIENT_ROUTE, app_shell.shell, name="app"),
]
# No public media URL: chat attachments are streamed by the API to the people
# who may read the case's room (chat.api).
# A URL under /api/ that matches no route is answered in the API's error shape.
handler404 = "core.api.errors.page_not_found"
