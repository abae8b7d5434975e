"""A socket with nothing to receive keeps waiting on the Redis channel layer.

channels_redis waits for a socket's messages with a blocking pop of up to
``brpop_timeout`` (5 s); redis-py 8 reads with a 5 s socket timeout by default.
With the layer configured by URL alone, every socket idle for 5 s failed its read
("Timeout reading from …"), and the consumer then left and rejoined its groups
(``core.sockets``), missing what was sent meanwhile and telling the phone the
live line was lost and restored. ``config/settings.py`` gives the layer's
connections a read timeout longer than the pop.
"""

from __future__ import annotations

import asyncio

import pytest
from channels_redis.core import RedisChannelLayer


@pytest.mark.redis
def test_an_idle_receive_outlasts_the_layers_blocking_pop(settings):
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    layer = RedisChannelLayer(**{**config, "prefix": "test-idle-receive"})
    outcome: dict[str, object] = {}

    async def wait() -> None:
        channel = await layer.new_channel()
        try:
            await asyncio.wait_for(layer.receive(channel), RedisChannelLayer.brpop_timeout + 2)
            outcome["result"] = "a message"
        except Exception as exc:  # noqa: BLE001 - asserted below
            outcome["result"] = type(exc)
        finally:
            await layer.close_pools()

    asyncio.run(wait())
    # asyncio's own timeout: nothing came and nothing failed (not redis' TimeoutError)
    assert outcome["result"] is asyncio.TimeoutError
