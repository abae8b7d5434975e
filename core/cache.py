"""One Redis connection pool per process for Django's cache.

Django keeps its cache objects in an ``asgiref`` ``Local`` that is not
thread-critical: under ASGI every request runs in its own context and gets a
new ``RedisCache``, and Django's ``RedisCacheClient`` keeps its pools on that
object. Each request then opened a new TCP connection to Redis (and asked the
installed redis-py's version from its package metadata to announce it), which
the replay's profile showed as a few per cent of every request.

``SharedConnectionPool`` is the ``pool_class`` the cache is configured with
(``CACHES["default"]["OPTIONS"]``): ``from_url`` hands out one pool per URL and
options for the whole process, so every request's cache object borrows from
the same connections. redis-py's pool is thread-safe and starts afresh in a
forked child (it checks its process id), so sharing it is safe.
"""

from __future__ import annotations

import threading
from typing import Any

from redis import ConnectionPool

_pools: dict[tuple[str, str], ConnectionPool] = {}
_lock = threading.Lock()


class SharedConnectionPool(ConnectionPool):
    """A redis-py ``ConnectionPool`` whose ``from_url`` returns one pool per process."""

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> ConnectionPool:  # type: ignore[override]
        """The process's pool for ``url`` with these options, made on first use."""
        key = (url, repr(sorted(kwargs.items())))
        pool = _pools.get(key)
        if pool is None:
            with _lock:
                pool = _pools.get(key)
                if pool is None:
                    pool = _pools[key] = ConnectionPool.from_url(url, **kwargs)
        return pool
