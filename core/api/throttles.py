"""Throttles: logins per username and per IP, writes per user."""

import hashlib

from rest_framework.throttling import SimpleRateThrottle


class LoginIPThrottle(SimpleRateThrottle):
    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": "login-ip", "ident": self.get_ident(request)}


class LoginUsernameThrottle(SimpleRateThrottle):
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


class WriteThrottle(SimpleRateThrottle):
    """Bounds how fast one person can write (reads are not counted)."""

    scope = "writes"

    def get_cache_key(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS") or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
