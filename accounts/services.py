"""Account operations that change state: socket tickets."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import SocketTicket, User


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_socket_ticket(*, user) -> tuple[str, int]:
    """A new ticket for ``user``: ``(ticket, seconds it stays valid)``.

    Spent tickets and tickets expired for a day are removed on the way.
    """
    lifetime = settings.JINSHAO_SOCKET_TICKET_SECONDS
    now = timezone.now()
    SocketTicket.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    key = secrets.token_urlsafe(32)
    SocketTicket.objects.create(
        key_hash=_digest(key), user=user, expires_at=now + timedelta(seconds=lifetime)
    )
    return key, lifetime


def spend_socket_ticket(key: str) -> User | None:
    """The active user the ticket was issued to, once; ``None`` if unknown, spent or expired."""
    if not key or len(key) > 128:
        return None
    now = timezone.now()
    digest = _digest(key)
    spent = SocketTicket.objects.filter(
        key_hash=digest, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if spent != 1:
        return None
    return User.objects.filter(socket_tickets__key_hash=digest, is_active=True).first()


def disable_inactive_accounts(*, days: int | None = None) -> list[str]:
    """Deactivate accounts unused for ``days`` (``JINSHAO_INACTIVE_DAYS``); their usernames.

    An account counts as used when it last logged in, or, never having
    logged in, when it was created. Superusers are left alone (break-glass).
    Each deactivation is audited.
    """
    from django.db import transaction
    from django.db.models import Q

    from audit.services import record

    days = settings.JINSHAO_INACTIVE_DAYS if days is None else days
    if not days:
        return []
    limit = timezone.now() - timedelta(days=days)
    stale = User.objects.filter(is_active=True, is_superuser=False).filter(
        Q(last_login__lt=limit) | Q(last_login__isnull=True, date_joined__lt=limit)
    )
    names = []
    with transaction.atomic():
        for user in stale.select_for_update():
            user.is_active = False
            user.save(update_fields=["is_active"])
            record("account.disabled_inactive", obj=user, details={"days": days})
            names.append(user.get_username())
    return names
