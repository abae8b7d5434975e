"""Time of each indicator of the analytics API, for the whole district and for one town.

Run against a seeded database (``seed_demo --cases N``)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jinshao_bench .venv/bin/python bench/analytics.py

Each request goes through the whole stack in-process (auth, scope, selectors,
JSON), as the auditor ``kaohe01`` over the default period (the last 365
days), repeated ``BENCH_REPEAT`` times after a warm-up; median and worst are
printed in milliseconds with the SQL query count.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.signals import request_started  # noqa: E402
from django.db import close_old_connections, connection, reset_queries  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from accounts.api.tokens import token_pair  # noqa: E402
from accounts.models import User  # noqa: E402
from cases.models import Case  # noqa: E402
from grids.models import Area  # noqa: E402

REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
INDICATORS = [
    "overview",
    "categories",
    "areas",
    "timeliness",
    "departments",
    "template-suggestions",
]


def main() -> None:
    request_started.disconnect(close_old_connections)
    client = APIClient(SERVER_NAME="localhost")
    # A login token that carries its second factor: the auditor owes one (the default
    # JINSHAO_2FA_ENFORCED), and a forced authentication without a token was refused (403).
    auditor = User.objects.get(username="kaohe01")
    access = token_pair(auditor, second_factor=True)["access"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    town = Area.objects.filter(level=2).order_by("code").first()
    assert town is not None, "seed the demo district first (seed_demo)"
    print(
        f"{Case.objects.count():,} cases on {connection.vendor}; median / worst of {REPEAT} (ms)\n"
    )
    print("| indicator | district: median / worst | queries | town: median / worst | queries |")
    print("|---|---|---|---|---|")
    for name in INDICATORS:
        cells = []
        for params in ({}, {"area": town.pk}):
            url = f"/api/v1/analytics/{name}/"
            assert client.get(url, params).status_code == 200
            reset_queries()
            with CaptureQueriesContext(connection) as queries:
                client.get(url, params)
            timings = []
            for _ in range(REPEAT):
                start = time.perf_counter()
                client.get(url, params)
                timings.append((time.perf_counter() - start) * 1000)
            cells.append(f"{statistics.median(timings):.0f} / {max(timings):.0f} | {len(queries)}")
        print(f"| {name} | {cells[0]} | {cells[1]} |", flush=True)


if __name__ == "__main__":
    main()
