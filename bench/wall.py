"""The operations-centre wall under load: N open wall screens while cases move at R per second.

Set-up as in production: two uvicorn processes sharing the Redis channel layer
(screens alternate between them), one Celery worker (the change hook queues
``analytics.wall_case_moved``; the throttle's window ends are Celery countdowns),
PostgreSQL. The bench process raises cases through the services
(``cases.services.create_case(..., submit=True)``, the real hook after commit)
at ``BENCH_RATE`` per second for ``BENCH_SECONDS``, in the town every screen
watches (``/ws/wall/?area=<town>``).

Latency of change k at screen s: from the commit of k to the first ``wall`` frame
at s whose ``raised`` count includes k (clients and mover share one clock). The
throttle (``JINSHAO_WALL_PUSH_SECONDS``, 1 s) coalesces changes, so a frame may
carry several. Server CPU: user + system time of the two uvicorn processes and
the Celery worker (with its children) over the run, from /proc. Usage::

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/h4 REDIS_URL=redis://127.0.0.1:6379/4 \\
        .venv/bin/python bench/wall.py
    BENCH_SCREENS=50 BENCH_RATE=10 BENCH_SECONDS=30 …  (the defaults)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import free_port, prepare_database, wait_for_port  # noqa: E402

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jinshao_wallbench"
)
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
SCREENS = int(os.environ.get("BENCH_SCREENS", "50"))
RATE = float(os.environ.get("BENCH_RATE", "10"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "30"))

os.environ["DATABASE_URL"] = DATABASE_URL
os.environ["REDIS_URL"] = REDIS_URL
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("JINSHAO_LOG_LEVEL", "WARNING")

TICKS = os.sysconf("SC_CLK_TCK")


def make_world():
    """A district → town → grid → community, a leader of the town, a village official."""
    from accounts.choices import Role
    from accounts.models import RoleAssignment, User
    from grids.choices import AreaLevel
    from grids.models import Area
    from templates.models import Category

    def area(level, code, name, parent=None):
        found = Area.objects.filter(code=code).first()
        return found or Area.objects.create(level=level, code=code, name=name, parent=parent)

    district = area(AreaLevel.DISTRICT, "WB1", "压测区")
    town = area(AreaLevel.TOWN, "WB1T", "压测镇", district)
    grid = area(AreaLevel.GRID, "WB1TG", "压测网格", town)
    community = area(AreaLevel.COMMUNITY, "WB1TGC", "压测村", grid)

    def person(username, role, where):
        user = User.objects.filter(username=username).first() or User.objects.create_user(
            username, password="Bench-Pass-2024", name=username
        )
        RoleAssignment.objects.get_or_create(user=user, role=role, area=where)
        return user

    leader = person("wallbench_leader", Role.LEADER, town)
    official = person("wallbench_official", Role.VILLAGE_OFFICIAL, community)
    category = Category.objects.filter(name="压测类别").first() or Category.objects.create(
        name="压测类别"
    )
    return town, community, leader, official, category


@contextlib.contextmanager
def processes(env: dict):
    """Two uvicorn servers and one Celery worker; yields (ports, pids)."""
    ports = [free_port(), free_port()]
    started = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "config.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(p),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        for p in ports
    ]
    started.append(
        subprocess.Popen(
            [
                str(ROOT / ".venv/bin/celery"),
                "-A",
                "config",
                "worker",
                "--loglevel",
                "WARNING",
                "--concurrency",
                "2",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
        )
    )
    try:
        for port in ports:
            wait_for_port(port, 60)
        time.sleep(3)  # the worker's start-up
        yield ports, [p.pid for p in started]
    finally:
        for p in started:
            p.terminate()
        for p in started:
            p.wait(20)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its children (living and reaped)."""
    total = 0.0
    with contextlib.suppress(FileNotFoundError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += sum(int(v) for v in fields[11:15]) / TICKS  # utime stime cutime cstime
    children = Path(f"/proc/{pid}/task/{pid}/children")
    with contextlib.suppress(FileNotFoundError):
        for child in children.read_text().split():
            total += cpu_seconds(int(child))
    return total


def mover(official, community, category, commits: list[float], stop: threading.Event) -> None:
    """Raise cases at RATE per second (services, hook after commit); commit times in order."""
    from django.db import connections

    from cases import services

    interval = 1 / RATE
    due = time.monotonic()
    count = int(RATE * SECONDS)
    for k in range(count):
        if stop.is_set():
            break
        due += interval
        services.create_case(
            actor=official,
            community=community,
            title=f"压测案件 {k}",
            category=category,
            submit=True,
        )
        commits.append(time.monotonic())
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    connections.close_all()


async def screens(urls: list[str], base: int):
    """Open every screen; listeners collecting (raised, arrival) of every wall frame, per
    screen, until the last change is seen."""
    import websockets

    sockets = []
    for url in urls:
        ws = await websockets.connect(url, max_queue=None)
        first = json.loads(await ws.recv())
        assert first["type"] == "wall", first
        sockets.append(ws)
    arrivals: list[list[tuple[int, float]]] = [[] for _ in sockets]
    expected = base + int(RATE * SECONDS)

    async def ping(ws) -> None:
        """As the app does every 30 s: keeps the town marked as watched (90 s)."""
        while True:
            await asyncio.sleep(30)
            await ws.send(json.dumps({"type": "ping"}))

    async def listen(i: int, ws) -> None:
        pinger = asyncio.create_task(ping(ws))
        async for text in ws:
            frame = json.loads(text)
            if frame.get("type") == "wall":
                raised = frame["figures"]["raised"]
                arrivals[i].append((raised, time.monotonic()))
                if raised >= expected:
                    pinger.cancel()
                    return

    return sockets, arrivals, [asyncio.create_task(listen(i, ws)) for i, ws in enumerate(sockets)]


def latencies(base: int, commits: list[float], arrivals) -> list[float]:
    """For each change k and screen: first arrival with raised ≥ base+k+1, minus commit k."""
    result = []
    for frames in arrivals:
        for k, committed in enumerate(commits):
            wanted = base + k + 1
            seen = next((t for raised, t in frames if raised >= wanted), None)
            result.append(float("inf") if seen is None else seen - committed)
    return result


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    prepare_database(DATABASE_URL)
    import django

    django.setup()
    from django.conf import settings

    from accounts.services import issue_socket_ticket
    from analytics import wall

    town, community, leader, official, category = make_world()
    base = wall.figures(wall.today_scope(town))["raised"]
    env = {**os.environ, "JINSHAO_LOG_LEVEL": "WARNING"}
    with processes(env) as (ports, pids):
        urls = []
        for i in range(SCREENS):
            ticket, _ = issue_socket_ticket(user=leader)
            urls.append(f"ws://127.0.0.1:{ports[i % 2]}/ws/wall/?area={town.pk}&ticket={ticket}")
        commits: list[float] = []
        stop = threading.Event()

        async def run():
            sockets, arrivals, listeners = await screens(urls, base)
            cpu_before = sum(cpu_seconds(p) for p in pids)
            started = time.monotonic()
            thread = threading.Thread(
                target=mover, args=(official, community, category, commits, stop)
            )
            thread.start()
            await asyncio.get_running_loop().run_in_executor(None, thread.join)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.gather(*listeners), timeout=15)
            elapsed = time.monotonic() - started
            cpu = sum(cpu_seconds(p) for p in pids) - cpu_before
            for ws in sockets:
                await ws.close()
            return arrivals, elapsed, cpu

        arrivals, elapsed, cpu = asyncio.run(run())
    lat = latencies(base, commits, arrivals)
    missing = sum(1 for v in lat if v == float("inf"))
    done = [v for v in lat if v != float("inf")]
    frames = sum(len(a) for a in arrivals) / len(arrivals)
    print(
        json.dumps(
            {
                "screens": SCREENS,
                "rate_per_s": RATE,
                "changes": len(commits),
                "achieved_rate_per_s": round(len(commits) / (commits[-1] - commits[0]), 2)
                if len(commits) > 1
                else None,
                "push_window_s": settings.JINSHAO_WALL_PUSH_SECONDS,
                "frames_per_screen": round(frames, 1),
                "latency_ms": {
                    "p50": round(percentile(done, 0.5) * 1000),
                    "p95": round(percentile(done, 0.95) * 1000),
                    "p99": round(percentile(done, 0.99) * 1000),
                    "max": round(max(done) * 1000),
                },
                "never_received": missing,
                "server_cpu_s": round(cpu, 2),
                "wall_s": round(elapsed, 1),
                "server_cpu_share_of_one_core": round(cpu / elapsed, 2),
                "cores": os.cpu_count(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
