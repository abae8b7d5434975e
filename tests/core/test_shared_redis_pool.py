"""One Redis connection pool per process for the cache (core.cache).

Under ASGI Django makes a new cache object per request; with redis-py's own pool
each of them opened a new connection to Redis. These tests need no Redis server:
a pool connects only when a command is sent.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache.backends.redis import RedisCache

from core.cache import SharedConnectionPool

URL = "redis://127.0.0.1:6379/15"


def _cache() -> RedisCache:
    return RedisCache(URL, {"OPTIONS": {"pool_class": "core.cache.SharedConnectionPool"}})


def test_cache_objects_of_different_requests_share_one_pool():
    first, second = _cache(), _cache()
    assert first is not second
    assert first._cache._get_connection_pool(True) is second._cache._get_connection_pool(True)


def test_pools_differ_by_url_and_options():
    assert SharedConnectionPool.from_url(URL) is SharedConnectionPool.from_url(URL)
    assert SharedConnectionPool.from_url(URL) is not SharedConnectionPool.from_url(
        "redis://127.0.0.1:6379/14"
    )
    assert SharedConnectionPool.from_url(URL) is not SharedConnectionPool.from_url(
        URL, socket_timeout=3
    )


def test_the_redis_cache_is_configured_with_the_shared_pool():
    cache = settings.CACHES["default"]
    if cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        assert cache["OPTIONS"]["pool_class"] == "core.cache.SharedConnectionPool"
    else:  # the embedded default: one process, local memory
        assert cache["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
