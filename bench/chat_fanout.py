"""Fan-out of a case's room: N phones in one room, one of them sends M messages.

Through real uvicorn servers and real WebSocket clients (``websockets``), for
three set-ups:

- ``redis``: the room (``/ws/cases/{id}/``) on two server processes sharing the
  Redis channel layer; clients alternate between the two;
- ``memory``: the room on one server process with the in-memory layer;
- ``bare``: a bare Channels echo consumer (no login, no database) on the Redis
  layer, as the baseline.

The sender waits for each acknowledgement before sending the next message, as
a phone does. Latency is measured from the send to each receiver's arrival
(clients share one clock); throughput is M over the time from the first send
to the last arrival. Usage::

    .venv/bin/python bench/chat_fanout.py                # N = 2, 10, 50, 200; M = 200
    BENCH_SIZES=2,50 BENCH_MESSAGES=100 .venv/bin/python bench/chat_fanout.py

``BENCH_SETUPS=redis`` runs only the named set-ups. ``BENCH_PORTS=8461,8462`` puts the
``redis`` room on servers already running (e.g. ``bin/topology``, while
``bench/replay.py`` drives them) instead of starting two: ``BENCH_DATABASE_URL`` must
then name the database those servers use.

Needs PostgreSQL (``BENCH_DATABASE_URL``, default the local ``jinshao_chatbench``,
created and migrated here) and Redis (``REDIS_URL``, default the local one).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import free_port, prepare_database, wait_for_port  # noqa: E402

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jinshao_chatbench"
)
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "2,10,50,200").split(",")]
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "200"))
SETUPS = os.environ.get("BENCH_SETUPS", "redis,memory,bare").split(",")
RUNNING = [int(p) for p in os.environ.get("BENCH_PORTS", "").split(",") if p]

os.environ["DATABASE_URL"] = DATABASE_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def make_room(size: int):
    """A case in progress with ``size`` people in its room (caller + accepted staff)."""
    from accounts.choices import Role
    from accounts.models import RoleAssignment, User
    from cases.choices import CaseState, InvitationState
    from cases.models import Case, Invitation
    from departments.models import Department, StaffMembership
    from grids.models import Area
    from templates.models import Category

    tag = f"b{time.time_ns() % 10**9}"
    district = Area.objects.create(code=f"{tag}d", name="基准区", level=0)
    town = Area.objects.create(code=f"{tag}t", name="基准镇", level=1, parent=district)
    grid = Area.objects.create(code=f"{tag}g", name="基准网格", level=2, parent=town)
    community = Area.objects.create(
        code=f"{tag}c", name="基准村", level=4, parent=grid, community_kind="village"
    )
    department = Department.objects.create(
        code=f"{tag}D", name="基准部门", level="district", kind="management"
    )
    caller = User.objects.create(username=f"{tag}-caller", name="基准书记")
    RoleAssignment.objects.create(user=caller, role=Role.VILLAGE_OFFICIAL, area=community)
    staff = User.objects.bulk_create(
        [User(username=f"{tag}-s{n}", name=f"队员{n}") for n in range(size - 1)]
    )
    StaffMembership.objects.bulk_create(
        [StaffMembership(user=u, department=department) for u in staff]
    )
    case = Case.objects.create(
        number=f"BENCH-{tag}",
        title="基准",
        community=community,
        category=Category.objects.create(code=f"{tag}k", name="基准"),
        caller=caller,
    )
    Case.objects.filter(pk=case.pk).update(state=CaseState.IN_PROGRESS)
    Invitation.objects.bulk_create(
        [
            Invitation(
                case=case,
                department=department,
                person=u,
                invited_by=caller,
                state=InvitationState.ACCEPTED,
            )
            for u in staff
        ]
    )
    return case, [caller, *staff]


@contextlib.contextmanager
def servers(count: int, module: str, env: dict):
    ports = [free_port() for _ in range(count)]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                module,
                "--host",
                "127.0.0.1",
                "--port",
                str(p),
                "--log-level",
                "warning",
                "--ws-max-queue",
                "1024",
            ],
            cwd=ROOT,
            env=env,
        )
        for p in ports
    ]
    try:
        for port in ports:
            wait_for_port(port, 30)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:  # still closing its sockets: no server outlives us
                process.kill()
                process.wait()


async def run_room(urls: list[str], messages: int) -> tuple[float, list[float]]:
    """Connect everyone, send ``messages`` from the first; (msgs/s, latencies in ms)."""
    import websockets

    latencies: list[float] = []
    sockets = [await websockets.connect(url, max_queue=None) for url in urls]
    for ws in sockets:
        while json.loads(await ws.recv())["type"] != "hello":
            pass
    receivers = sockets[1:]
    done = asyncio.Event()
    remaining = len(receivers) * messages
    last_arrival = 0.0

    async def listen(ws) -> None:
        nonlocal remaining, last_arrival
        async for raw in ws:
            frame = json.loads(raw)
            if frame["type"] != "message" or not frame["message"]["text"].startswith("t="):
                continue
            now = time.perf_counter()
            latencies.append((now - float(frame["message"]["text"][2:])) * 1000)
            last_arrival = now
            remaining -= 1
            if remaining == 0:
                done.set()

    listeners = [asyncio.create_task(listen(ws)) for ws in receivers]
    sender = sockets[0]
    started = time.perf_counter()
    for n in range(messages):
        await sender.send(
            json.dumps({"type": "message", "text": f"t={time.perf_counter()}", "client_id": f"{n}"})
        )
        while json.loads(await sender.recv())["type"] != "ack":
            pass
    await asyncio.wait_for(done.wait(), 120)
    elapsed = last_arrival - started
    for task in listeners:
        task.cancel()
    for ws in sockets:
        await ws.close()
    return messages / elapsed, latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    prepare_database(DATABASE_URL)
    import django

    django.setup()
    from accounts.services import issue_socket_ticket

    base_env = {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "JINSHAO_SERVE_STATIC": "false",
        "JINSHAO_CHAT_RATE": "1000000",
        "CONN_MAX_AGE": "60",
    }
    setups = [
        ("redis", "config.asgi:application", 2, {**base_env, "REDIS_URL": REDIS_URL}),
        ("memory", "config.asgi:application", 1, {**base_env, "REDIS_URL": ""}),
        ("bare", "bench.echo_asgi:application", 2, {**base_env, "REDIS_URL": REDIS_URL}),
    ]
    print(f"{MESSAGES} messages per run; p50/p99 delivery latency in ms\n")
    print("| set-up | N | msgs/s | deliveries/s | p50 | p99 |")
    print("|---|---|---|---|---|---|")
    for label, module, count, env in setups:
        if label not in SETUPS:
            continue
        started = (
            contextlib.nullcontext(RUNNING)
            if RUNNING and label == "redis"
            else servers(count, module, env)
        )
        with started as ports:
            for size in SIZES:
                case, people = make_room(size)
                urls = []
                for n, person in enumerate(people):
                    port = ports[n % len(ports)]
                    if label == "bare":
                        urls.append(f"ws://127.0.0.1:{port}/ws/echo/{case.pk}/")
                    else:
                        ticket, _ = issue_socket_ticket(user=person)
                        urls.append(f"ws://127.0.0.1:{port}/ws/cases/{case.pk}/?ticket={ticket}")
                rate, latencies = asyncio.run(run_room(urls, MESSAGES))
                print(
                    f"| {label} | {size} | {rate:.0f} | {rate * (size - 1):.0f} | "
                    f"{percentile(latencies, 0.5):.1f} | {percentile(latencies, 0.99):.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
