"""What the socket benchmarks share: a free port, and a migrated PostgreSQL database."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port nothing listens on right now (127.0.0.1), for a server to start on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float) -> None:
    """Return once something accepts TCP connections on 127.0.0.1:``port``.

    Raises ``RuntimeError`` after ``timeout`` seconds without one.
    """
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.1)


def prepare_database(database_url: str) -> None:
    """Create the PostgreSQL database ``database_url`` names if missing, then migrate it.

    Raises ``subprocess.CalledProcessError`` when the migration fails.
    """
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        check=True,
        env={**os.environ, "DATABASE_URL": database_url},
    )
