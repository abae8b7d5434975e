"""Refusals of unauthenticated intake, counted per client address.

The signed intake API and Open311 answer anyone who posts, and each request
is kept as a ``Delivery``. So that nobody can fill that table (or guess keys
at leisure), refusals of requests we could not authenticate (unknown system,
wrong or missing key, bad signature, unreadable body before the key) are
counted per client address (``audit.request.client_ip``, proxy-aware) in fixed
windows of ``JINSHAO_INTAKE_REFUSAL_WINDOW_SECONDS``:

- the first ``JINSHAO_INTAKE_REFUSALS_PER_ADDRESS`` of a window are answered
  and kept one by one, as before;
- past that, every request from the address (on either door) is answered 429
  before it is read, and the window's 429s are kept as one row whose
  ``times`` counts them (``services.record_throttled``);
- from all addresses together, at most ``JINSHAO_INTAKE_KEPT_REFUSALS``
  refusals a window are kept one by one; past that they are still answered as
  usual but counted in one row (no address) per door and status, so many
  addresses together cannot fill the table either.

Accepted deliveries never count. The counters live in the shared cache (Redis
in production: ``incr`` is atomic there, so several server processes share
one count).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache

from audit.request import client_ip


@dataclass(frozen=True)
class Window:
    """One fixed counting window: its start and how long until the next begins."""

    index: int
    seconds: int

    @property
    def started_at(self) -> datetime:
        return datetime.fromtimestamp(self.index * self.seconds, tz=UTC)

    def seconds_left(self, now: float) -> int:
        return max(1, int((self.index + 1) * self.seconds - now))


def current_window(now: float | None = None) -> Window:
    seconds = max(1, settings.JINSHAO_INTAKE_REFUSAL_WINDOW_SECONDS)
    now = time.time() if now is None else now
    return Window(int(now // seconds), seconds)


def _key(address: str | None, window: Window) -> str:
    # Hashed: the address is whatever the proxy wrote; not every cache takes that as a key.
    ident = hashlib.sha256((address or "-").encode()).hexdigest()[:32]
    return f"intake-refusals:{ident}:{window.index}"


def retry_after(request) -> int | None:
    """Seconds until the request's address may try again; ``None`` when it may try now."""
    now = time.time()
    window = current_window(now)
    count = cache.get(_key(client_ip(request), window)) or 0
    if count >= settings.JINSHAO_INTAKE_REFUSALS_PER_ADDRESS:
        return window.seconds_left(now)
    return None


def count_refusal(request) -> None:
    """Count one refusal of an unauthenticated request against its address, and in all."""
    window = current_window()
    for key in (_key(client_ip(request), window), _all_key(window)):
        _incr(key, window.seconds)


def refusals_may_be_kept() -> bool:
    """Whether this window's refusals (counted so far, from all addresses) may be kept one by one."""
    count = cache.get(_all_key(current_window())) or 0
    return count <= settings.JINSHAO_INTAKE_KEPT_REFUSALS


def _all_key(window: Window) -> str:
    return f"intake-refusals:all:{window.index}"


def _incr(key: str, timeout: int) -> None:
    cache.add(key, 0, timeout=timeout)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)
