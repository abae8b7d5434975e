"""``GET /metrics``: the Prometheus exposition, for the scraper only.

Answered to a caller whose address (``core.client.client_address``) is in
``JINSHAO_METRICS_ALLOWED_ADDRESSES`` (addresses or networks; loopback by
default) or who sends ``Authorization: Bearer <JINSHAO_METRICS_TOKEN>``;
anyone else gets the same 404 as a path that does not exist.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from core import metrics
from core.client import client_address


def scrape_allowed(request: HttpRequest) -> bool:
    """True if ``request`` comes from an allowed address or carries the metrics token."""
    token = settings.JINSHAO_METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    given = header.removeprefix("Bearer ").encode() if header.startswith("Bearer ") else b""
    if token and given and hmac.compare_digest(given, token.encode()):
        return True
    address = client_address(request)
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for allowed in settings.JINSHAO_METRICS_ALLOWED_ADDRESSES:
        try:
            if ip in ipaddress.ip_network(allowed, strict=False):
                return True
        except ValueError:
            continue
    return False


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    path = metrics.multiprocess_dir()
    if path:
        MultiProcessCollector(registry, path=path)  # every process's files, added up
    else:
        registry.register(_ThisProcess())
    registry.register(metrics.StateCollector())
    return registry


class _ThisProcess:
    """The default registry's metrics (one process), inside a fresh registry."""

    def collect(self):
        return REGISTRY.collect()


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The metrics text (Prometheus format 0.0.4); 404 to anyone not allowed to scrape."""
    if not scrape_allowed(request):
        raise Http404
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
