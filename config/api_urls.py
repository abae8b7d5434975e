"""The phone API, version 1 (the URL layout is the contract of DESIGN.md)."""

from django.urls import include, path

app_name = "api"

urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("grids.api.urls")),
    path("", include("templates.api.urls")),
    path("", include("departments.api.urls")),
    path("", include("cases.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("chat.api.urls")),
    path("", include("analytics.api.urls")),
    path("", include("ratings.api.urls")),
    path("", include("integrations.api.urls")),
]
