"""How fast one external system may POST service requests."""

from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle

from integrations.models import ExternalSystem

#: Unless ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["open311"]`` says otherwise.
DEFAULT_RATE = "120/min"


class SystemPostThrottle(SimpleRateThrottle):
    """Counts one system's POSTs (DRF's sliding window, kept in the shared cache)."""

    scope = "open311"

    def __init__(self, system: ExternalSystem):
        self.system = system
        super().__init__()

    def get_rate(self) -> str:
        return self.THROTTLE_RATES.get(self.scope) or DEFAULT_RATE

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.system.pk}
