"""What a person's logins hang on, and ending them all.

A login is a browser session, a refresh token (with the access tokens minted
from it) or an open socket. Each is bound to the password it was opened with
(``credential_stamp``) and lives only while the account is active; a session
is also bound to its row in the session store, an access token to the refresh
token it came from (``accounts.api.tokens``). ``end_logins`` ends every one of
them at once, whatever the reason: a password changed on any path,
deactivation, a lock-out. The receivers that call it are in
``accounts.receivers``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from importlib import import_module

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from core.realtime import access_changed

#: Hex characters of the stamp carried in tokens and remembered by sockets (64 bits).
STAMP_LENGTH = 16


def credential_stamp(user) -> str:
    """A keyed digest of the person's password hash (hex, ``STAMP_LENGTH``): changes with it.

    Keyed with ``SECRET_KEY`` as Django's session hash is, so a token that
    carries it tells nothing about the password.
    """
    digest = salted_hmac("jinshao.logins.stamp", user.password, algorithm="sha256")
    return digest.hexdigest()[:STAMP_LENGTH]


def stamp_matches(user, stamp) -> bool:
    return isinstance(stamp, str) and constant_time_compare(stamp, credential_stamp(user))


def session_digest(session_key: str | None) -> str:
    """How a session is named in pushes and logs: never the key itself."""
    return hashlib.sha256((session_key or "").encode()).hexdigest()


def session_alive(session_key: str | None, user) -> bool:
    """The browser session still exists, belongs to ``user`` and was opened with today's password."""
    if not session_key:
        return False
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    data = store.load()  # {} when deleted or expired
    return str(data.get(SESSION_KEY)) == str(user.pk) and constant_time_compare(
        data.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()
    )


def locked_out_since(username: str, since: datetime) -> bool:
    """The account was locked out (from any address) at or after ``since`` and still is."""
    from axes.models import AccessAttempt

    start = max(since, timezone.now() - settings.AXES_COOLOFF_TIME)
    return AccessAttempt.objects.filter(
        username=username,
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        attempt_time__gte=start,
    ).exists()


def revoke_refresh_tokens(user) -> int:
    """Blacklist every outstanding, unexpired refresh token of ``user``; how many were live."""
    from rest_framework_simplejwt.token_blacklist.models import (
        BlacklistedToken,
        OutstandingToken,
    )

    live = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    rows = [BlacklistedToken(token=token) for token in live]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def end_sessions(user) -> int:
    """Delete every browser session of ``user`` in the database store; how many.

    Sessions do not say whose they are until decoded, so the unexpired ones
    are read; the back office has a few thousand at most.
    """
    mine = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get(SESSION_KEY)) == str(user.pk):
            mine.append(session.session_key)
    Session.objects.filter(session_key__in=mine).delete()
    return len(mine)


def end_logins(user, *, sessions: bool) -> None:
    """End the person's refresh tokens (and their access tokens), sessions if asked, and sockets.

    Runs in the caller's transaction; the sockets are told after it commits
    and each re-checks its right from the database.
    """
    revoke_refresh_tokens(user)
    if sessions:
        end_sessions(user)
    access_changed(user.pk)
