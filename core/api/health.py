"""``/health/live`` and ``/health/ready``: what a proxy, Docker or Kubernetes probes.

Plain Django views (no DRF: no authentication, throttles or content negotiation),
outside the CSP (JSON only) and the HTTPS redirect (``SECURE_REDIRECT_EXEMPT``).
``live`` reads nothing; ``ready`` answers ``core.health.ready_checks``, naming
each check only to a trusted caller (``core.health.is_trusted``).
"""

from __future__ import annotations

from csp.decorators import csp_exempt
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core import health


@csp_exempt()
@never_cache
@require_safe
def live(request) -> JsonResponse:
    """200 ``{"status": "ok"}`` whenever the process answers; no database, no cache."""
    return JsonResponse({"status": "ok"})


@csp_exempt()
@never_cache
@require_safe
def ready(request) -> JsonResponse:
    """200 ``{"status": "ok"}`` or 503 ``{"status": "unavailable"}``.

    A trusted caller also gets ``checks``: ``{name: {"ok": bool, "lag_seconds": float?}}``.
    """
    checks = health.ready_checks()
    ok = all(check.ok for check in checks)
    body: dict[str, object] = {"status": "ok" if ok else "unavailable"}
    if health.is_trusted(request):
        body["checks"] = {check.name: check.as_dict() for check in checks}
    response = JsonResponse(body, status=200 if ok else 503)
    # Not Django's "Service Unavailable" error line on every probe: core.health
    # already logged which check failed, once per computed answer.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response
