"""The WebSocket frames' machine-readable description (AsyncAPI 3.0), next to the OpenAPI
schema: ``docs/asyncapi.yaml`` served as JSON at ``/api/schema/ws/``."""

from __future__ import annotations

from functools import cache

import yaml
from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.http import require_GET

ASYNCAPI_PATH = settings.BASE_DIR / "docs" / "asyncapi.yaml"


@cache
def asyncapi_document() -> dict:
    """The AsyncAPI document as a dict (read once per process)."""
    with open(ASYNCAPI_PATH, encoding="utf-8") as file:
        return yaml.safe_load(file)


@require_GET
def asyncapi_view(request):
    """``GET /api/schema/ws/``: the AsyncAPI 3.0 document of the case rooms, as JSON.

    Public like ``/api/schema/`` (it describes shapes, never data).
    """
    return JsonResponse(asyncapi_document(), json_dumps_params={"ensure_ascii": False})
