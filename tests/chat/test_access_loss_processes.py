"""Losing access in one server process closes the sockets another process holds.

Runs where CI has PostgreSQL and Redis (``DATABASE_URL``, ``REDIS_URL``): two
uvicorn processes share the test database and a Redis channel layer, as in
``test_two_processes.py``. The person's socket is open on the first; the
person changes their password through the API of the second.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request

import pytest
import websockets
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from accounts.models import User
from tests.chat.test_two_processes import frame_of, free_port, room_url, server_env, serving
from tests.factories import PASSWORD

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.redis,
]


def post_json(url: str, body: dict, token: str | None = None) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def test_a_password_changed_on_one_process_closes_the_socket_on_another(world, case_in):
    case = case_in("in_progress", invite=("staff_a",))
    # The servers hash with the production hasher, not the tests' fast one.
    User.objects.filter(pk=world.staff_a.pk).update(
        password=PBKDF2PasswordHasher().encode(PASSWORD, "saltsaltsalt")
    )
    one, two = free_port(), free_port()
    env = {**server_env(settings.REDIS_URL), "JINSHAO_2FA_ENFORCED": "false"}
    with serving(one, env), serving(two, env):
        url = room_url(one, case, world.staff_a)

        async def lose_access() -> int | None:
            async with websockets.connect(url) as staff:
                await frame_of(staff, "hello")
                api = f"http://127.0.0.1:{two}/api/v1/auth"
                pair = await asyncio.to_thread(
                    post_json, f"{api}/token/", {"username": "staff_a", "password": PASSWORD}
                )
                await asyncio.to_thread(
                    post_json,
                    f"{api}/password/",
                    {"old_password": PASSWORD, "new_password": "Another-Pass-2025"},
                    pair["access"],
                )
                assert (await frame_of(staff, "error"))["code"] == "password_changed"
                with pytest.raises(websockets.ConnectionClosed):
                    async with asyncio.timeout(10):
                        await staff.recv()
                return staff.close_code

        assert asyncio.run(lose_access()) == 4401
