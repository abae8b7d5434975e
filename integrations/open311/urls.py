"""Open311 GeoReport v2: services are our case templates, requests our cases.

Every resource ends in its format, ``.json`` or ``.xml`` (GeoReport's
convention); an unknown format is a 404 in GeoReport's error shape.
"""

from django.urls import re_path

from integrations.open311 import views

app_name = "open311"

FORMAT = r"\.(?P<fmt>[A-Za-z0-9]+)$"

urlpatterns = [
    re_path(r"^services" + FORMAT, views.service_list, name="services"),
    re_path(
        r"^services/(?P<service_code>[^/]+)" + FORMAT,
        views.service_definition,
        name="service-definition",
    ),
    re_path(r"^requests" + FORMAT, views.request_list, name="requests"),
    re_path(r"^requests/(?P<request_id>[^/]+)" + FORMAT, views.request_detail, name="request"),
    re_path(r"^tokens/(?P<token>[^/]+)" + FORMAT, views.token_detail, name="token"),
]
