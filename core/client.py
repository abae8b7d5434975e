"""The client's address: one notion for the throttles, the lock-out and the audit log."""

from __future__ import annotations

from django.conf import settings


def client_address(request) -> str | None:
    """The address that sent ``request``, as text; None without a request or address.

    ``REMOTE_ADDR``, unless ``JINSHAO_TRUSTED_PROXIES`` (N) proxies of our own
    stand in front of the application: then the address the outermost of them
    saw, i.e. the N-th entry of ``X-Forwarded-For`` counted from the end. Only
    those last N entries were written by our proxies; anything before them is
    what the client claimed, and is never used. With N = 0 (the default) the
    header is ignored altogether. A header with fewer than N entries did not
    come through all our proxies: ``REMOTE_ADDR`` then.

    Used by ``core.api.throttles`` (every DRF throttle), django-axes
    (``AXES_CLIENT_IP_CALLABLE``) and the audit log (``audit.request.client_ip``).
    """
    if request is None:
        return None
    meta = getattr(request, "META", {})
    proxies = settings.JINSHAO_TRUSTED_PROXIES
    if proxies > 0:
        forwarded = [
            p.strip() for p in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return meta.get("REMOTE_ADDR") or None
