"""Reconnect storm: N phones on the live feed, the server restarts, everyone comes back.

N real WebSocket clients (``websockets``) hold ``/ws/notifications/`` open on W
uvicorn workers of the production set-up (PostgreSQL, the Redis channel layer;
as ``bin/topology`` runs them), each with a browser session cookie of its own
person, as the phone app does. Then every worker is killed (SIGKILL: all
sockets drop in the same instant, the worst case) and started again at once.
Each client reconnects on the app's schedule (``mobile/src/features/room/backoff.ts``
with the feed's numbers, ``mobile/src/live/notifications.ts``): wait
``min(30 s, 1 s·2^attempt)``, with equal jitter (half fixed, half random) — or,
for comparison, without jitter (the full wait, the same for everyone: the
feed's schedule before issue 14).

Measured per schedule, from the kill:
- time until the restarted workers listen again, and until every client has its
  ``hello`` again (all back), 50 % / 99 % of them, and all back counted from "listening";
- connection attempts, and how they failed: refused (no process listening yet),
  refused by the server (an HTTP status at the handshake, a close before hello),
  timed out (no hello within ``BENCH_HELLO_TIMEOUT``, 30 s);
- the workers' peak RSS (sum over workers, MiB) and CPU seconds from the restart
  until all are back (``/proc``, sampled every 100 ms), and the busiest 1 s of CPU.

Usage::

    .venv/bin/python bench/reconnect_storm.py               # N = 1000, W = 2
    BENCH_CLIENTS=200 BENCH_WORKERS=1 .venv/bin/python bench/reconnect_storm.py

Needs PostgreSQL (``BENCH_DATABASE_URL``, default the local ``jinshao_stormbench``,
created and migrated here) and Redis (``REDIS_URL``, default db 0 of the local one).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import free_port, prepare_database  # noqa: E402

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jinshao_stormbench"
)
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "1000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
SCHEDULES = os.environ.get("BENCH_SCHEDULES", "jitter,none").split(",")
#: The feed's backoff (mobile/src/live/notifications.ts FEED_BACKOFF), ms.
BASE_MS, CAP_MS = 1000, 30000
#: How long a client waits for the handshake and hello (a browser's WebSocket has no such
#: limit of its own; a long one keeps the bench from adding retries a phone would not make).
HELLO_TIMEOUT = float(os.environ.get("BENCH_HELLO_TIMEOUT", "30"))
#: Storms per schedule, alternating (the machine's load varies from one to the next).
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1"))

os.environ["DATABASE_URL"] = DATABASE_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def delay_ms(attempt: int, schedule: str, rnd: random.Random) -> float:
    """The app's ``reconnectDelay`` (equal jitter), or the full wait with no jitter."""
    exp = min(CAP_MS, BASE_MS * 2 ** max(0, min(attempt, 30)))
    if schedule == "none":
        return exp
    return exp / 2 + rnd.random() * exp / 2


def make_sessions(count: int) -> list[str]:
    """``count`` people (no role), each logged in: their session keys."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from accounts.models import User

    tag = f"storm{time.time_ns() % 10**9}"
    password = make_password("Storm@2024")  # one hash for all: hashing 1,000 costs minutes
    users = User.objects.bulk_create(
        [
            User(
                username=f"{tag}-{n}",
                name=f"风暴{n}",
                password=password,
                password_changed_at=timezone.now(),
            )
            for n in range(count)
        ]
    )
    keys = []
    for user in users:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        assert session.session_key is not None  # create() saved it
        keys.append(session.session_key)
    return keys


class Workers:
    """W uvicorn processes of config.asgi (as bin/topology starts them)."""

    def __init__(self, count: int, env: dict):
        self.ports = [free_port() for _ in range(count)]
        self.env = env
        self.processes: list[subprocess.Popen] = []

    def start(self) -> None:
        self.processes = [
            subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "config.asgi:application"]
                + ["--host", "127.0.0.1", "--port", str(p), "--log-level", "error"]
                + ["--backlog", "2048"],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
            )
            for p in self.ports
        ]

    def kill(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGKILL)
        for process in self.processes:
            process.wait(10)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(15)
            if process.poll() is None:
                process.kill()

    def sample(self) -> tuple[int, float]:
        """(RSS bytes summed over the workers, CPU seconds used so far summed)."""
        rss, cpu = 0, 0.0
        tick = os.sysconf("SC_CLK_TCK")
        for process in self.processes:
            with contextlib.suppress(OSError):
                with open(f"/proc/{process.pid}/statm") as f:
                    rss += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
                with open(f"/proc/{process.pid}/stat") as f:
                    parts = f.read().rsplit(")", 1)[1].split()
                    cpu += (int(parts[11]) + int(parts[12])) / tick
        return rss, cpu


@dataclass
class Tally:
    attempts: int = 0
    refused: int = 0  # nothing listening (the restart is not done)
    rejected: int = 0  # an HTTP answer at the handshake, or closed before hello
    timeouts: int = 0
    back_at: list[float] = field(default_factory=list)  # seconds after the kill


class Client:
    def __init__(self, n: int, url: str, session: str, schedule: str, tally: Tally, seed: int):
        self.url, self.session, self.schedule, self.tally = url, session, schedule, tally
        self.rnd = random.Random(seed * 7919 + n)
        self.first = asyncio.get_running_loop().create_future()
        self.killed_at: float | None = None
        self.back = False

    async def run(self) -> None:
        import websockets
        from websockets.typing import Origin

        attempt = 0
        while True:
            counting = self.killed_at is not None and not self.back
            if counting:
                self.tally.attempts += 1
            admitted = False
            try:
                async with websockets.connect(
                    self.url,
                    origin=Origin("http://127.0.0.1"),
                    additional_headers={"Cookie": f"sessionid={self.session}"},
                    open_timeout=HELLO_TIMEOUT,
                    ping_interval=None,
                    max_queue=None,
                ) as ws:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), HELLO_TIMEOUT))
                    if frame.get("type") != "hello":
                        raise RuntimeError(frame)
                    admitted = True
                    attempt = 0
                    if not self.first.done():
                        self.first.set_result(None)
                    elif self.killed_at is not None and not self.back:
                        self.back = True
                        self.tally.back_at.append(time.monotonic() - self.killed_at)
                    async for _ in ws:
                        pass
            except TimeoutError:  # asyncio's too (3.11): no hello in time
                if counting and not admitted:
                    self.tally.timeouts += 1
            except OSError:  # refused: nothing listens yet
                if counting and not admitted:
                    self.tally.refused += 1
            except Exception:  # an HTTP status at the handshake, closed before hello, …
                if counting and not admitted:
                    self.tally.rejected += 1
            # dropped or failed: wait as the app does, then try again
            await asyncio.sleep(delay_ms(attempt, self.schedule, self.rnd) / 1000)
            attempt += 1


async def wait_listening(ports: list[int], deadline: float) -> None:
    for port in ports:
        while True:
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the workers did not start")
            await asyncio.sleep(0.1)


async def storm(workers: Workers, sessions: list[str], schedule: str) -> dict:
    workers.start()
    await wait_listening(workers.ports, time.monotonic() + 60)
    tally = Tally()
    clients = [
        Client(
            n,
            f"ws://127.0.0.1:{workers.ports[n % len(workers.ports)]}/ws/notifications/",
            key,
            schedule,
            tally,
            seed=1,
        )
        for n, key in enumerate(sessions)
    ]
    tasks = []
    for client in clients:  # connect everyone first, 50 at a time (not the storm measured)
        tasks.append(asyncio.create_task(client.run()))
        if len(tasks) % 50 == 0:
            await asyncio.sleep(0.2)
    await asyncio.wait_for(asyncio.gather(*(c.first for c in clients)), 300)
    await asyncio.sleep(2)
    _, cpu_idle = workers.sample()

    killed = time.monotonic()
    for client in clients:
        client.killed_at = killed
    workers.kill()
    workers.start()
    restarted = time.monotonic()
    peak_rss, cpu0 = 0, 0.0
    samples: list[tuple[float, float]] = []
    listening = None
    while len(tally.back_at) < len(clients) and time.monotonic() - killed < 300:
        await asyncio.sleep(0.1)
        rss, cpu = workers.sample()
        if not samples:
            cpu0 = cpu
        peak_rss = max(peak_rss, rss)
        samples.append((time.monotonic(), cpu))
        if listening is None:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", workers.ports[0]), 0.05).close()
                listening = time.monotonic() - killed
    all_back = time.monotonic() - killed
    busiest = 0.0
    for i, (t, c) in enumerate(samples):
        j = i
        while j + 1 < len(samples) and samples[j + 1][0] - t <= 1.0:
            j += 1
        if samples[j][0] > t:
            busiest = max(busiest, (samples[j][1] - c) / (samples[j][0] - t))
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    workers.stop()
    back = sorted(tally.back_at)

    def at(q: float) -> float:
        return back[min(len(back) - 1, int(q * (len(back) - 1)))] if back else float("nan")

    return {
        "schedule": schedule,
        "clients": len(clients),
        "back": len(back),
        "listening_s": listening,
        "p50_s": at(0.5),
        "p99_s": at(0.99),
        "all_s": all_back if len(back) == len(clients) else float("nan"),
        "attempts": tally.attempts,
        "refused": tally.refused,
        "rejected": tally.rejected,
        "timeouts": tally.timeouts,
        "peak_rss_mib": peak_rss / 2**20,
        "cpu_s": (samples[-1][1] - cpu0) if samples else 0.0,
        "busiest_cpu_pct": busiest * 100,
        "restart_s": restarted - killed,
    }


def main() -> None:
    prepare_database(DATABASE_URL)
    import django

    django.setup()
    sessions = make_sessions(CLIENTS)
    env = {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "JINSHAO_SERVE_STATIC": "false",
        "CONN_MAX_AGE": "60",
    }
    workers = Workers(WORKERS, env)
    print(f"N = {CLIENTS} sockets on {WORKERS} workers (PostgreSQL, Redis layer); all killed")
    print("(SIGKILL) and restarted at once; times from the kill\n")
    print(
        "| schedule | back | listening again | p50 back | p99 back | all back | "
        "all back after listening | attempts | refused (down) | rejected | timed out | "
        "peak RSS MiB | CPU s | busiest 1 s CPU |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for schedule in [s for _ in range(ROUNDS) for s in SCHEDULES]:
        r = asyncio.run(storm(workers, sessions, schedule))
        label = "equal jitter (app)" if schedule == "jitter" else "no jitter"
        print(
            f"| {label} | {r['back']}/{r['clients']} | {r['listening_s']:.1f} s | "
            f"{r['p50_s']:.1f} s | {r['p99_s']:.1f} s | {r['all_s']:.1f} s | "
            f"{r['all_s'] - r['listening_s']:.1f} s | {r['attempts']} | "
            f"{r['refused']} | {r['rejected']} | {r['timeouts']} | {r['peak_rss_mib']:.0f} | "
            f"{r['cpu_s']:.1f} | {r['busiest_cpu_pct']:.0f} % |",
            flush=True,
        )


if __name__ == "__main__":
    main()
