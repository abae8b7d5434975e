"""Session limits: a session ends after JINSHAO_SESSION_IDLE_MINUTES without use, and
JINSHAO_SESSION_MAX_HOURS after it began, whatever happens in between."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout

# The last use is written to the session at most once a minute: the phone app's requests
# would otherwise each end with an UPDATE of the session row. The recorded use is then at
# most this old, so an idle session ends up to a minute early, never late.
SEEN_EVERY_SECONDS = 60


class SessionLimitsMiddleware:
    """Ends a session idle too long or begun too long ago (``logout``: its row is deleted)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated:
            now = int(time.time())
            started = session.setdefault("jinshao_started", now)
            seen = session.get("jinshao_seen", now)
            idle = now - seen > settings.JINSHAO_SESSION_IDLE_MINUTES * 60
            too_old = now - started > settings.JINSHAO_SESSION_MAX_HOURS * 3600
            if idle or too_old:
                logout(request)  # flushes the server-side session
            elif now - seen >= SEEN_EVERY_SECONDS or "jinshao_seen" not in session:
                session["jinshao_seen"] = now
        return self.get_response(request)


class ExpiredPasswordMiddleware:
    """In the browser, an expired password leads to the password change page, and nowhere else."""

    allowed = (
        "admin:password_change",
        "admin:password_change_done",
        "admin:logout",
        "admin:jsi18n",
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.shortcuts import redirect
        from django.urls import NoReverseMatch, reverse

        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and request.path.startswith("/admin/")
            and user.password_expired
        ):
            try:
                allowed = {reverse(name) for name in self.allowed}
            except NoReverseMatch:
                allowed = set()
            if request.path not in allowed:
                return redirect("admin:password_change")
        return self.get_response(request)


class SecondFactorMiddleware:
    """Half logged in (password given, second factor owed): the second-factor page only."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.shortcuts import redirect
        from django.urls import reverse

        from accounts import twofactor

        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and request.path.startswith("/admin/")
            and twofactor.required(user)
            and not twofactor.session_verified(request.session)
        ):
            allowed = {reverse("second-factor"), reverse("admin:logout"), reverse("admin:jsi18n")}
            if request.path not in allowed:
                return redirect("second-factor")
        return self.get_response(request)
