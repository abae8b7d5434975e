"""Open311 GeoReport v2: services are our case templates, requests our cases.

Mounted at ``/open311/``: discovery there, GeoReport v2 under ``v2/``. Every
resource ends in its format, ``.json`` or ``.xml`` (GeoReport's convention);
an unknown format or address is a 404 in GeoReport's error shape.
"""

from django.urls import re_path

from integrations.open311 import views

app_name = "open311"

FORMAT = r"\.(?P<fmt>[A-Za-z0-9]+)$"

urlpatterns = [
    # GeoReport's service discovery sits beside the version it routes to.
    re_path(r"^discovery" + FORMAT, views.discovery, name="discovery"),
    re_path(r"^v2/$", views.unknown, name="root"),
    re_path(r"^v2/services" + FORMAT, views.service_list, name="services"),
    re_path(
        r"^v2/services/(?P<service_code>[^/]+)" + FORMAT,
        views.service_definition,
        name="service-definition",
    ),
    re_path(r"^v2/requests" + FORMAT, views.request_list, name="requests"),
    re_path(
        r"^v2/requests/(?P<request_id>[^/]+)/media\.jpg$",
        views.request_media,
        name="request-media",
    ),
    re_path(r"^v2/requests/(?P<request_id>[^/]+)" + FORMAT, views.request_detail, name="request"),
    re_path(r"^v2/tokens/(?P<token>[^/]+)" + FORMAT, views.token_detail, name="token"),
    # Anything else under /open311/ (a wrong path, an old version): GeoReport's 404.
    re_path(r"^(?P<path>.*)$", views.unknown),
]
