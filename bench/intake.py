"""Intake latency, and the cost of the deadline sweep, on a seeded district.

Run against a database seeded by ``seed_demo`` (it adds cases: use a copy)::

    DATABASE_URL=sqlite:////tmp/demo-copy.sqlite3 .venv/bin/python bench/intake.py
    DATABASE_URL=postgres://…/jinshao_bench100k .venv/bin/python bench/intake.py

1. ``BENCH_CASES`` (200) signed deliveries go through the whole Django stack
   in-process (signature check, replay guard, mapping, case creation with its
   event, audit row, notification and outbox row); for each, the clock runs
   from the request until the community's village official sees the case in
   their own ``GET /api/v1/cases/?state=draft`` queue.
2. The sweep: one run when nothing is due (its cost every minute), then one
   after every live case's deadlines are moved into the past.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from datetime import timedelta  # noqa: E402

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from accounts.choices import Role  # noqa: E402
from accounts.models import RoleAssignment  # noqa: E402
from cases import services as case_services  # noqa: E402
from cases.models import Case  # noqa: E402
from integrations.models import AreaMapping, CategoryMapping, ExternalSystem  # noqa: E402
from integrations.services import sign  # noqa: E402
from templates.models import CaseTemplate  # noqa: E402

N = int(os.environ.get("BENCH_CASES", "200"))


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def setup() -> tuple[ExternalSystem, object]:
    official = (
        RoleAssignment.objects.filter(role=Role.VILLAGE_OFFICIAL, user__is_active=True)
        .select_related("user", "area")
        .first()
    )
    template = CaseTemplate.objects.filter(is_active=True).first()
    if official is None or official.area is None or template is None:
        raise SystemExit("Seed the district first (manage.py seed_demo).")
    system, _ = ExternalSystem.objects.get_or_create(
        code="bench", defaults={"name": "压测平台", "secret": "bench-secret-0123456789"}
    )
    CategoryMapping.objects.get_or_create(
        system=system, external_code="B-CAT", defaults={"template": template}
    )
    AreaMapping.objects.get_or_create(
        system=system, external_code="B-AREA", defaults={"community": official.area}
    )
    return system, official.user


def intake(system, official) -> None:
    http = Client()
    phone = APIClient()
    phone.force_authenticate(official)
    stamp = int(time.time())
    latencies, posts = [], []
    for i in range(N):
        external_id = f"BENCH-{stamp}-{i}"
        body = json.dumps(
            {
                "external_id": external_id,
                "category_code": "B-CAT",
                "area_code": "B-AREA",
                "title": f"压测案件 {i}",
                "address": "南桥路1号",
            },
            ensure_ascii=False,
        ).encode()
        ts = str(int(time.time()))
        started = time.perf_counter()
        response = http.post(
            f"/api/v1/intake/{system.code}/cases/",
            data=body,
            content_type="application/json",
            HTTP_X_JINSHAO_TIMESTAMP=ts,
            HTTP_X_JINSHAO_SIGNATURE=sign(system.secret, ts, body),
        )
        posted = time.perf_counter()
        assert response.status_code == 201, response.content
        number = response.json()["case"]["number"]
        queue = phone.get("/api/v1/cases/", {"state": "draft", "q": number})
        seen = time.perf_counter()
        assert queue.json()["results"][0]["number"] == number
        posts.append((posted - started) * 1000)
        latencies.append((seen - started) * 1000)
    print(f"intake, {N} deliveries on {connection.vendor}:")
    for name, values in (("POST answered", posts), ("visible in the queue", latencies)):
        print(
            f"  {name:22} median {statistics.median(values):6.1f} ms"
            f"  p95 {percentile(values, 95):6.1f} ms  max {max(values):6.1f} ms"
        )


def sweep() -> None:
    live = Case.objects.filter(state__in=["dispatched", "in_progress"])
    count = live.count()
    started = time.perf_counter()
    quiet = case_services.sweep_deadlines().total
    idle = (time.perf_counter() - started) * 1000
    with transaction.atomic():
        past = timezone.now() - timedelta(days=2)
        live.update(response_deadline=past, deadline=past)
    started = time.perf_counter()
    report = case_services.sweep_deadlines(limit=100_000)
    busy = time.perf_counter() - started
    print(f"sweep on {connection.vendor}, {Case.objects.count():,} cases, {count:,} live:")
    print(f"  nothing due: {idle:.1f} ms ({quiet} steps)")
    print(f"  every live case due: {busy:.2f} s for {report.total} steps {report.taken}")
    if report.total:
        print(
            f"  = {busy / report.total * 1000:.1f} ms per step (event, audit, notices, room line)"
        )


if __name__ == "__main__":
    system, official = setup()
    intake(system, official)
    sweep()
