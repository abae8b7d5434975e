"""Latency of the phone API's list endpoints on a seeded district.

Run against a database seeded by ``seed_demo`` (any size)::

    .venv/bin/python bench/api_lists.py                 # the embedded SQLite demo
    DATABASE_URL=postgres://… .venv/bin/python bench/api_lists.py

Each request goes through the whole Django stack in-process (URL routing,
JWT authentication, permissions, filters, serializers), not through a socket,
so the figures are the server's own cost. Every request is repeated and the
median and 95th percentile are printed with the SQL query count.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("JINSHAO_LOGIN_RATE", "10000/min")

import django  # noqa: E402

django.setup()

from django.core.signals import request_started  # noqa: E402
from django.db import close_old_connections, connection, reset_queries  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from accounts.api.tokens import token_pair  # noqa: E402
from accounts.models import User  # noqa: E402
from cases.models import Case  # noqa: E402

REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
BASELINE_FIELDS = (
    "id",
    "number",
    "title",
    "state",
    "priority",
    "source",
    "community_id",
    "category_id",
    "address",
    "created_at",
    "deadline",
)


def _authed_baseline_view():
    """The fairer floor: the case list's own authentication, permissions and scoping
    (the project's default DRF classes, ``visible_to``), then ``.values()`` and JSON.

    Through the whole stack like the list (middlewares, JWT with its session, the roles),
    so the list's ratio against it is the cost of the list's own rows, filters and
    pagination; no serializers, no pagination objects, no filters.
    """
    from django.http import JsonResponse
    from rest_framework.views import APIView

    class AuthedBaseline(APIView):
        def get(self, request):
            size = int(request.GET.get("page_size", 20))
            queryset = Case.objects.visible_to(request.user).order_by("-created_at", "-id")
            return JsonResponse({"results": list(queryset.values(*BASELINE_FIELDS)[:size])})

    return AuthedBaseline.as_view()


def _urlpatterns():
    from django.urls import include, path

    return [
        path("bench/cases-values/", _authed_baseline_view()),
        path("", include("config.urls")),
    ]


def client_for(username: str) -> APIClient:
    client = APIClient(SERVER_NAME="localhost")
    # A login token as the app gets it (its session and, where owed, its second factor): a
    # bare RefreshToken.for_user is refused (401) since tokens name their session.
    token = token_pair(User.objects.get(username=username), second_factor=True)["access"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def measure(label: str, client: APIClient, url: str, params: dict) -> None:
    client.get(url, params)  # warm caches
    timings = []
    reset_queries()  # the DEBUG query log is bounded: a full one would count nothing
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code, response.content[:200])
    for _ in range(REPEAT):
        start = time.perf_counter()
        client.get(url, params)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    p95 = timings[max(int(len(timings) * 0.95) - 1, 0)]
    print(
        f"| {label} | `{url}` {params or ''} | {len(queries)} | "
        f"{statistics.median(timings):.1f} | {p95:.1f} |"
    )


def measure_baseline(label: str, user: User, params: dict) -> None:
    """The floor for the case list: the same rows as ``.values()`` and JSON, no DRF.

    The same scope (``visible_to``), order (newest first) and page size as the endpoint,
    serialised with Django's ``JsonResponse``: what the list costs without serializers,
    pagination objects, authentication and permissions.
    """
    from django.http import JsonResponse

    size = params.get("page_size", 20)
    fields = BASELINE_FIELDS

    def run() -> None:
        rows = list(
            Case.objects.visible_to(user).order_by("-created_at", "-id").values(*fields)[:size]
        )
        assert JsonResponse({"results": rows}).content

    run()
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        run()
    timings = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        run()
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    p95 = timings[max(int(len(timings) * 0.95) - 1, 0)]
    print(
        f"| {label} | baseline `.values()`+JSON {params} | {len(queries)} | "
        f"{statistics.median(timings):.1f} | {p95:.1f} |"
    )


def measure_ratio(label: str, client: APIClient, user: User, size: int = 100) -> None:
    """The list against both baselines, interleaved (list, bare, authenticated; REPEAT times)."""
    from django.http import JsonResponse

    def bare() -> None:
        queryset = Case.objects.visible_to(user).order_by("-created_at", "-id")
        assert JsonResponse({"results": list(queryset.values(*BASELINE_FIELDS)[:size])}).content

    params = {"page_size": size}
    times: dict[str, list[float]] = {"list": [], "bare": [], "authed": []}
    steps = {
        "list": lambda: client.get("/api/v1/cases/", params),
        "bare": bare,
        "authed": lambda: client.get("/bench/cases-values/", params),
    }
    for step in steps.values():
        step()  # warm
    for _ in range(REPEAT):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append((time.perf_counter() - start) * 1000)
    p50 = {name: statistics.median(t) for name, t in times.items()}
    print(
        f"| {label} | {p50['list']:.1f} | {p50['bare']:.1f} | {p50['list'] / p50['bare']:.1f}× "
        f"| {p50['authed']:.1f} | {p50['list'] / p50['authed']:.1f}× |"
    )


def main() -> None:
    from django.test.utils import override_settings

    urlpatterns[:] = _urlpatterns()
    with override_settings(ROOT_URLCONF=__name__):
        run()


urlpatterns: list = []


def run() -> None:
    # As in Django's own test client runs: keep one connection so queries can be counted.
    request_started.disconnect(close_old_connections)
    print("(`/bench/cases-values/`: the authenticated baseline, `.values()`+JSON)")
    print(f"{Case.objects.count():,} cases on {connection.vendor}, {REPEAT} runs each\n")
    print("| who | request | queries | p50 ms | p95 ms |")
    print("|---|---|---|---|---|")
    leader, commander = client_for("lingdao01"), client_for("zhihui01")
    official, staff = client_for("cun001"), client_for("s0001")
    cases = "/api/v1/cases/"
    measure("leader (district)", leader, cases, {"page_size": 1})
    measure("leader (district)", leader, cases, {"page_size": 20})
    measure("leader (district)", leader, cases, {"page_size": 100})
    measure_baseline(
        "leader (district)", User.objects.get(username="lingdao01"), {"page_size": 100}
    )
    authed = "/bench/cases-values/"
    measure("leader (district)", leader, authed, {"page_size": 100})
    measure("leader (district)", leader, cases, {"state": "closed", "page_size": 100})
    measure("leader (district)", leader, cases, {"q": "占道", "page_size": 20})
    measure("leader (district)", leader, cases, {"overdue": "true", "page_size": 20})
    measure("commander (grid)", commander, cases, {"page_size": 100})
    measure_baseline("commander (grid)", User.objects.get(username="zhihui01"), {"page_size": 100})
    measure("commander (grid)", commander, authed, {"page_size": 100})
    measure("village official", official, cases, {"page_size": 100})
    measure("staff", staff, cases, {"page_size": 100})
    first = Case.objects.visible_to(User.objects.get(username="zhihui01")).first()
    if first is not None:
        measure("commander (grid)", commander, f"{cases}{first.pk}/", {})
    measure("staff", staff, "/api/v1/notifications/", {"page_size": 100})
    measure("village official", official, "/api/v1/templates/", {"page_size": 100})
    measure("village official", official, "/api/v1/staff/", {"q": "王", "page_size": 100})
    measure("village official", official, "/api/v1/me/", {})
    print("\nThe list (page size 100) against its baselines, interleaved, p50 ms:\n")
    print("| who | list | bare `.values()`+JSON | ratio | authenticated baseline | ratio |")
    print("|---|---|---|---|---|---|")
    measure_ratio("leader (district)", leader, User.objects.get(username="lingdao01"))
    measure_ratio("commander (grid)", commander, User.objects.get(username="zhihui01"))


if __name__ == "__main__":
    main()
