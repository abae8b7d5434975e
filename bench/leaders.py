"""Server time of every chart's data, the dashboard page and the wall's first paint.

Run against a seeded database whose daily figures are built (``seed_demo --cases N``,
``manage.py analytics_refresh``, ``VACUUM ANALYZE``)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jin1m nice -n 5 .venv/bin/python bench/leaders.py

Each request goes through the whole stack in-process (Django's test client: URL
routing, authentication, scope, selectors, JSON or the template), so the time
is the server's, without the network. Endpoints (``/api/v1/analytics/…``):
overview, categories, areas, timeliness, departments, trend (day, week, month),
distributions, map (town, grid, community × cases, per_1000, overdue_share,
mean_response), density, template-suggestions; the admin dashboard page
(``/admin/dashboard/``); the wall's first paint: the socket's first frame
(``WallConsumer._open``: the scope and ``analytics.wall.figures``) and the map
shapes the wall then fetches (``map/?level=…&from=<today>``).

Asked as the auditor ``kaohe01`` (API: a login token carrying its second
factor; the dashboard: a session, with the second factor not enforced for the
run), for the whole district and for the first town, over the default period
(the last 365 days). Each is asked once to warm up, then ``BENCH_REPEAT``
times (5): min and median in milliseconds, the SQL queries of one request (with
their time in the database, in brackets) and the body's size. Then the same with today marked stale (a ``StaleDay`` row,
as a change to a case writes; its rebuild is not run), so every figure read
from the daily figures must cover that day another way. ``BENCH_ONLY``: a
comma-separated list of row names to run (``overview,map community``…).
``BENCH_STALE=0`` skips the stale pass; ``BENCH_JSON=path`` also writes the
rows as JSON. The load average is printed with the results (a shared machine).
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
os.environ.setdefault("LOG_LEVEL", "WARNING")  # no request log line per call

import django  # noqa: E402

django.setup()

from django.core.serializers.json import DjangoJSONEncoder  # noqa: E402
from django.core.signals import request_started  # noqa: E402
from django.db import close_old_connections, connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from accounts.api.tokens import token_pair  # noqa: E402
from accounts.models import User  # noqa: E402
from analytics import wall  # noqa: E402
from analytics.models import StaleDay  # noqa: E402
from analytics.scope import resolve_scope  # noqa: E402
from cases.models import Case  # noqa: E402
from grids.models import Area  # noqa: E402

REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
ONLY = {n.strip() for n in os.environ.get("BENCH_ONLY", "").split(",") if n.strip()}
API = "/api/v1/analytics/"


def rows() -> list[tuple[str, str, dict]]:
    """(row name, kind, params): kind "api:<path>", "admin" or "wall"/"wall map"."""
    out: list[tuple[str, str, dict]] = [
        (name, f"api:{name}/", {})
        for name in ("overview", "categories", "areas", "timeliness", "departments")
    ]
    out += [(f"trend {b}", "api:trend/", {"bucket": b}) for b in ("day", "week", "month")]
    out.append(("distributions", "api:distributions/", {}))
    out += [
        (f"map {level} {indicator}", "api:map/", {"level": level, "indicator": indicator})
        for level in ("town", "grid", "community")
        for indicator in ("cases", "per_1000", "overdue_share", "mean_response")
    ]
    out += [
        ("density", "api:density/", {}),
        ("template-suggestions", "api:template-suggestions/", {}),
        ("admin dashboard page", "admin", {}),
        ("wall: first frame", "wall", {}),
        ("wall: map shapes", "wall map", {}),
    ]
    return [r for r in out if not ONLY or r[0] in ONLY]


class Bench:
    def __init__(self) -> None:
        self.auditor = User.objects.get(username="kaohe01")
        self.api = APIClient(SERVER_NAME="localhost")
        access = token_pair(self.auditor, second_factor=True)["access"]
        self.api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        self.admin = Client(SERVER_NAME="localhost")
        self.auditor.is_staff = True  # the seed's auditor is staff already; never saved here
        self.admin.force_login(self.auditor)

    def call(self, kind: str, params: dict, area: Area | None) -> int:
        """One request; returns the body's size in bytes."""
        query = {**params, **({"area": area.pk} if area else {})}
        if kind.startswith("api:"):
            response = self.api.get(API + kind[4:], query)
        elif kind == "admin":
            with override_settings(JINSHAO_2FA_ENFORCED=False):
                response = self.admin.get("/admin/dashboard/", query)
        elif kind == "wall":
            # WallConsumer._open: the scope, today's figures, as JSON (the first frame).
            scope = resolve_scope(
                self.auditor, area_id=area.pk if area else None, first=None, last=None
            )
            figures = wall.figures(wall.today_scope(scope.area))
            return len(json.dumps({"type": "wall", "figures": figures}, cls=DjangoJSONEncoder))
        else:  # the wall's map shapes: cases raised today, one level below the area
            today = timezone.localdate()
            level = wall.map_level(area)
            response = self.api.get(
                API + "map/", {**query, "level": level, "indicator": "cases", "from": today}
            )
        assert response.status_code == 200, (kind, query, response.status_code)
        return len(response.content)

    def measure(self, kind: str, params: dict, area: Area | None) -> dict:
        size = self.call(kind, params, area)  # warm-up
        reset_queries()  # the log keeps 9,000 queries at most: a full one counts none
        with CaptureQueriesContext(connection) as queries:
            self.call(kind, params, area)
        timings = []
        for _ in range(REPEAT):
            start = time.perf_counter()
            self.call(kind, params, area)
            timings.append((time.perf_counter() - start) * 1000)
        return {
            "min": min(timings),
            "median": statistics.median(timings),
            "queries": len(queries),
            "sql_ms": sum(float(q["time"]) for q in queries.captured_queries) * 1000,
            "bytes": size,
        }


def cell(m: dict | None) -> str:
    if m is None:
        return "— | — | —"
    return (
        f"{m['min']:.0f} / {m['median']:.0f} | {m['queries']} ({m['sql_ms']:.0f}) "
        f"| {m['bytes'] / 1024:.1f}"
    )


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run_pass(bench: Bench, town: Area, label: str) -> list[dict]:
    print(f"\n{label} — load average {load()}\n")
    print(
        "| endpoint | district: min / median ms | queries (SQL ms) | KiB "
        "| town: min / median ms | queries (SQL ms) | KiB |"
    )
    print("|---|---|---|---|---|---|---|")
    results = []
    for name, kind, params in rows():
        district = bench.measure(kind, params, None)
        in_town = bench.measure(kind, params, town)
        results.append({"name": name, "pass": label, "district": district, "town": in_town})
        print(f"| {name} | {cell(district)} | {cell(in_town)} |", flush=True)
    print(f"\nload average after: {load()}")
    return results


def main() -> None:
    request_started.disconnect(close_old_connections)
    request_started.disconnect(reset_queries)  # else each request empties the captured ones
    town = Area.objects.filter(level=2).order_by("code").first()
    assert town is not None, "seed the demo district first (seed_demo)"
    cases = Case.objects.count()
    print(
        f"{cases:,} cases on {connection.vendor} ({connection.settings_dict['NAME']}); "
        f"town {town.name} (id {town.pk}); min / median of {REPEAT} after a warm-up"
    )
    bench = Bench()
    results = run_pass(bench, town, "daily figures fresh")
    if os.environ.get("BENCH_STALE", "1") != "0":
        today = timezone.localdate()
        marked = not StaleDay.objects.filter(day=today).exists()
        if marked:
            StaleDay.objects.create(day=today)
        try:
            results += run_pass(bench, town, "today stale (a StaleDay row, not rebuilt)")
        finally:
            if marked:
                StaleDay.objects.filter(day=today).delete()
    if os.environ.get("BENCH_JSON"):
        Path(os.environ["BENCH_JSON"]).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
