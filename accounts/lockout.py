"""What a locked-out login attempt is told (django-axes calls this)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from audit.request import client_ip
from audit.services import record
from core.api.errors import error_body


def locked_out(request, credentials=None, *args, **kwargs) -> HttpResponse:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _(
        "Too many failed log-ins for this account from this address: "
        "try again in %(minutes)s minutes, or ask the security administrator to unlock it."
    ) % {"minutes": minutes}
    username = str((credentials or {}).get("username", ""))[:150]
    record(
        "auth.locked_out",
        ip=client_ip(request),
        success=False,
        details={"username": username},
    )
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body("locked_out", message), status=403, json_dumps_params={"ensure_ascii": False}
        )
    return HttpResponse(message, status=403, content_type="text/plain; charset=utf-8")
