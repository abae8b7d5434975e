"""Cost of one audited write, and throughput of many at once (issue 16).

Run against a migrated database (PostgreSQL for the concurrent part)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jinshao_bench .venv/bin/python bench/audit_writes.py

Three measures, each printed as one line:

- ``single``: ``BENCH_WRITES`` transactions, one after the other, each writing one
  audit record (``audit.services.record``) for a user with details like a case
  step's; the time of each (ms: median, p95) and the SQL queries of one.
- ``concurrent``: ``BENCH_THREADS`` threads (one connection each), each running
  ``BENCH_PER_THREAD`` transactions; a transaction writes one record, then does
  ``BENCH_WORK_MS`` of further work (``pg_sleep``, standing for the rest of a
  request's transaction: a case step writes its audit record in the middle of
  its own), then commits. Printed: transactions per second over the wall time,
  and the p50/p95/p99 time of one transaction (ms).
- ``drain``: with the pending-record write path, the time from the last commit
  until the sequencer has chained everything (seconds), and the largest
  oldest-pending age seen while the threads ran.

It runs on the code before issue 16 as well (no sequencer: ``drain`` is skipped),
which is how the "before" figures in docs/benchmarks.md were taken. With the
sequencer it runs the way the embedded default does: each commit kicks it in
process (``JINSHAO_AUDIT_SEQUENCE_ON_COMMIT=inline``), plus a periodic thread
standing for beat (every ``BENCH_BEAT_SECONDS``).
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User  # noqa: E402
from audit import services as audit  # noqa: E402

WRITES = int(os.environ.get("BENCH_WRITES", "300"))
THREADS = int(os.environ.get("BENCH_THREADS", "8"))
PER_THREAD = int(os.environ.get("BENCH_PER_THREAD", "100"))
WORK_MS = float(os.environ.get("BENCH_WORK_MS", "5"))
BEAT_SECONDS = float(os.environ.get("BENCH_BEAT_SECONDS", "2"))
SEQUENCER = hasattr(audit, "sequence_pending")
DETAILS = {"from": "pending_review", "to": "dispatched", "invitation": None}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def actor() -> User:
    user = User.objects.filter(username="bench_audit").first()
    return user or User.objects.create_user("bench_audit", password=None)


def one_write(user: User, work_ms: float = 0.0) -> float:
    started = time.perf_counter()
    with transaction.atomic():
        audit.record("bench.write", actor=user, ip="10.0.0.1", details=DETAILS)
        if work_ms and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(%s)", [work_ms / 1000])
    return (time.perf_counter() - started) * 1000


def single(user: User) -> None:
    for _ in range(20):  # warm-up
        one_write(user)
    with CaptureQueriesContext(connection) as captured:
        one_write(user)
    times = [one_write(user) for _ in range(WRITES)]
    print(
        f"single: {WRITES} writes, median {statistics.median(times):.2f} ms,"
        f" p95 {percentile(times, 0.95):.2f} ms, {len(captured.captured_queries)} queries"
        f" per write (transaction included)"
    )


def concurrent(user: User) -> None:
    barrier = threading.Barrier(THREADS + 1)
    times: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    oldest = [0.0]
    stop = threading.Event()

    def worker() -> None:
        mine = []
        try:
            barrier.wait(timeout=60)
            for _ in range(PER_THREAD):
                mine.append(one_write(user, WORK_MS))
        except BaseException as exc:  # noqa: BLE001 (counted, printed)
            errors.append(exc)
        finally:
            connections.close_all()
            with lock:
                times.extend(mine)

    def beat() -> None:  # what Celery beat does in production
        try:
            while not stop.wait(BEAT_SECONDS):
                audit.sequence_pending()
                oldest[0] = max(oldest[0], audit.pending_status()[1])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    beater = threading.Thread(target=beat) if SEQUENCER else None
    if beater:
        beater.start()
    barrier.wait(timeout=60)
    started = time.perf_counter()
    for thread in threads:
        thread.join(600)
    wall = time.perf_counter() - started
    print(
        f"concurrent: {THREADS} threads x {PER_THREAD} transactions ({WORK_MS:g} ms of other"
        f" work each): {len(times) / wall:.0f} transactions/s, p50 {percentile(times, 0.5):.1f}"
        f" ms, p95 {percentile(times, 0.95):.1f} ms, p99 {percentile(times, 0.99):.1f} ms,"
        f" {len(errors)} errors"
    )
    if beater:
        stop.set()
        beater.join(60)
        drained = time.perf_counter()
        while audit.pending_status()[0]:
            audit.sequence_pending(wait=True)
        print(
            f"drain: chained everything {time.perf_counter() - drained:.2f} s after the last"
            f" commit; oldest pending seen while writing: {oldest[0]:.2f} s"
        )


def main() -> None:
    if SEQUENCER:
        settings.JINSHAO_AUDIT_SEQUENCE_ON_COMMIT = os.environ.get(
            "JINSHAO_AUDIT_SEQUENCE_ON_COMMIT", "inline"
        )
        print(
            f"write path: pending + sequencer (on commit: {settings.JINSHAO_AUDIT_SEQUENCE_ON_COMMIT})"
        )
    else:
        print("write path: chain head locked by each write")
    user = actor()
    single(user)
    if connection.vendor == "postgresql":
        connections.close_all()
        concurrent(user)
    print(f"log verifies: {audit.first_broken_link() is None}")


if __name__ == "__main__":
    main()
