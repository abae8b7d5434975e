"""The client's address as the audit log records it."""

from __future__ import annotations

from django.conf import settings


def client_ip(request) -> str | None:
    """``REMOTE_ADDR``, or behind ``JINSHAO_TRUSTED_PROXIES`` proxies the address they saw.

    Only the last N entries of ``X-Forwarded-For`` were written by our own
    proxies; anything before them is what the client claimed.
    """
    if request is None:
        return None
    meta = getattr(request, "META", {})
    proxies = settings.JINSHAO_TRUSTED_PROXIES
    if proxies:
        forwarded = [
            p.strip() for p in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return meta.get("REMOTE_ADDR") or None
