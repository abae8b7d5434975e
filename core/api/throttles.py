"""Throttles: logins per username and per IP, writes per user.

Every throttle of the API derives from ``AddressThrottle``, so that "per
address" means the address the lock-out and the audit log see too
(``core.client.client_address``, ``JINSHAO_TRUSTED_PROXIES`` aware), never
whatever ``X-Forwarded-For`` a client sends.
"""

import hashlib

from rest_framework.throttling import SimpleRateThrottle

from core.client import client_address


class AddressThrottle(SimpleRateThrottle):
    """A DRF throttle whose ``get_ident`` is the one client address of the application."""

    def get_ident(self, request) -> str:
        return client_address(request) or ""


class LoginIPThrottle(AddressThrottle):
    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": "login-ip", "ident": self.get_ident(request)}


class LoginUsernameThrottle(AddressThrottle):
    scope = "login"

    def get_cache_key(self, request, view):
        data = getattr(request, "data", None)
        username = str(data.get("username", "")).strip().lower() if hasattr(data, "get") else ""
        if not username:
            return None
        # Hashed: a username is whatever the client sent (spaces, control characters,
        # any length), and not every cache takes that as a key.
        ident = hashlib.sha256(username.encode()).hexdigest()
        return self.cache_format % {"scope": "login-user", "ident": ident}


class WriteThrottle(AddressThrottle):
    """Bounds how fast one person can write (reads are not counted)."""

    scope = "writes"

    def get_cache_key(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS") or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
