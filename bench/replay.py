"""The district-year replay: whole case lives through the public API, many people at once.

Each case is raised by its community's village official (with the departments and people
the demo seed would invite: ``seed_demo``'s own choice of community, template and invitees,
same seed, same distributions), submitted by them, approved by the grid's commander,
accepted (or, 12 % of invitations as in the seed, declined with a reason) by each invited
person, completed by the official and rated by them, every participating department, with
the seed's scores (each criterion 100 nine times in ten, else 85–99). Every step is an HTTP
request by the right person with their own login (``auth/token/``); nothing is written
in-process. The plan (who raises what, who is invited) is read from the database first.

Run against the production set-up (``bin/topology start`` on PostgreSQL and Redis, several
ASGI workers) seeded with the demo's reference data (``seed_demo --no-cases`` or any demo)::

    JINSHAO_LOGIN_RATE=100000/min JINSHAO_WRITE_RATE=100000/min bin/topology start
    DATABASE_URL=… .venv/bin/python bench/replay.py --cases 400 --clients 8 \\
        --base http://127.0.0.1:8001,http://127.0.0.1:8002

The login and write throttles are the server's settings ``JINSHAO_LOGIN_RATE`` and
``JINSHAO_WRITE_RATE`` (a replay logs in hundreds of people and one commander approves
every case of a grid): set them for the server, no code is edited.

A script of its own rather than Locust: Locust is not among the project's requirements (it
would add gevent and Flask), and what is measured here is a fixed plan of dependent steps
(each case's life in order, by different people), which plain threads with ``requests``
(already a development requirement) express directly. ``--clients`` threads each take the
next case of the plan and live it to its end.

Prints requests/s, p50/p95/p99 (ms) per endpoint, the errors, and the district figures
of ``analytics/overview/`` at the end (as the auditor ``kaohe01``).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402

from accounts.models import User  # noqa: E402
from core.management.commands.seed_demo import DECLINE_RATE, DEMO_PASSWORD, Command  # noqa: E402

TIMEOUT = 60  # seconds any one request may take


def _site_photo() -> bytes:
    """A small camera-like JPEG (800×600, ~40 KB): what the phone uploads after downscaling."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 600), (120, 150, 110))
    draw = ImageDraw.Draw(image)
    for n in range(0, 800, 40):
        draw.line([(n, 0), (800 - n, 600)], fill=(90 + n % 120, 80, 60), width=3)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


SITE_PHOTO = _site_photo()


@dataclass
class Plan:
    """One case's life: who raises it where, from which template, who is invited."""

    official: str
    commander: str
    community: int
    template: int
    answers: dict
    invitees: list[tuple[int, str, int]]  # (department id, username, user id)
    declines: set[int] = field(default_factory=set)  # indexes into invitees
    scores: list[dict[str, int]] = field(default_factory=list)  # one per department, in order


def make_plans(count: int, seed: int) -> tuple[list[Plan], list[str]]:
    """``count`` case lives drawn as ``seed_demo`` draws its cases; and the criteria codes."""
    from core.management.commands.seed_demo import _sample_answer

    rng = random.Random(seed)
    command = Command()
    world = command.load_world(rng)
    usernames = dict(User.objects.values_list("pk", "username"))
    criteria = [c.code for c in world.criteria]
    plans: list[Plan] = []
    while len(plans) < count:
        community = rng.choices(world.communities, weights=world.community_weights)[0]
        template = rng.choices(world.templates, weights=world.template_weights)[0]
        commander = world.commander_of.get(community.pk)
        invitees = command.pick_invitees(rng, world, template, community)
        if commander is None or not invitees:
            continue
        answers = {f.key: _sample_answer(rng, f) for f in template.fields.all()}
        declines = {i for i in range(len(invitees)) if rng.random() < DECLINE_RATE}
        if len(declines) == len(invitees):
            declines.discard(0)  # somebody takes the case on
        departments = dict.fromkeys(d for i, (d, _) in enumerate(invitees) if i not in declines)
        plans.append(
            Plan(
                official=usernames[world.official_of[community.pk]],
                commander=usernames[commander],
                community=community.pk,
                template=template.pk,
                answers=answers,
                invitees=[(d, usernames[p], p) for d, p in invitees],
                declines=declines,
                scores=[
                    {c: 100 if rng.random() < 0.9 else rng.randint(85, 99) for c in criteria}
                    for _ in departments
                ],
            )
        )
    return plans, criteria


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.errors: list[tuple[str, int, str]] = []

    def add(self, label: str, ms: float, status: int, body: str) -> None:
        with self.lock:
            self.timings[label].append(ms)
            if status >= 400:
                self.errors.append((label, status, body[:200]))


class Client:
    """One replaying thread: a session per person (their own login), round-robin workers."""

    def __init__(self, bases: list[str], stats: Stats, offset: int) -> None:
        self.bases, self.stats, self.turn = bases, stats, offset
        self.sessions: dict[str, requests.Session] = {}

    def base(self) -> str:
        self.turn += 1
        return self.bases[self.turn % len(self.bases)]

    def call(
        self, label: str, username: str | None, method: str, path: str, body=None
    ) -> requests.Response:
        session = self.sessions.get(username or "") or self.login(username or "")
        for _attempt in range(3):
            start = time.perf_counter()
            response = session.request(method, self.base() + path, json=body, timeout=TIMEOUT)
            ms = (time.perf_counter() - start) * 1000
            self.stats.add(label, ms, response.status_code, response.text)
            if response.status_code == 401 and username:  # the access token expired
                session = self.login(username)
                continue
            return response
        return response

    def login(self, username: str) -> requests.Session:
        session = requests.Session()
        start = time.perf_counter()
        response = session.post(
            self.base() + "/api/v1/auth/token/",
            json={"username": username, "password": DEMO_PASSWORD},
            timeout=TIMEOUT,
        )
        self.stats.add(
            "POST auth/token/",
            (time.perf_counter() - start) * 1000,
            response.status_code,
            response.text,
        )
        response.raise_for_status()
        session.headers["Authorization"] = f"Bearer {response.json()['access']}"
        self.sessions[username] = session
        return session

    def upload_photo(self, username: str) -> str | None:
        """``POST uploads/`` as the phone does before raising a case: the upload's id."""
        session = self.sessions.get(username) or self.login(username)
        start = time.perf_counter()
        response = session.post(
            self.base() + "/api/v1/uploads/",
            files={"file": ("site.jpg", SITE_PHOTO, "image/jpeg")},
            timeout=TIMEOUT,
        )
        ms = (time.perf_counter() - start) * 1000
        self.stats.add("POST uploads/", ms, response.status_code, response.text)
        return response.json()["id"] if response.status_code == 201 else None

    def live(self, plan: Plan) -> bool:
        """The whole life of one case; False at the first refused step.

        A template's photo field takes photos uploaded first (``uploads/``), as the phone
        sends them: each photo the seed drew is one upload of a small JPEG.
        """
        answers = dict(plan.answers)
        for key, value in plan.answers.items():
            if isinstance(value, list) and all(str(v).startswith("demo/photo-") for v in value):
                ids = [self.upload_photo(plan.official) for _ in value]
                if None in ids:
                    return False
                answers[key] = ids
        created = self.call(
            "POST cases/",
            plan.official,
            "POST",
            "/api/v1/cases/",
            {
                "community": plan.community,
                "title": "回放案件",
                "template": plan.template,
                "answers": answers,
                "invitees": [{"department": d, "person": p} for d, _, p in plan.invitees],
            },
        )
        if created.status_code != 201:
            return False
        case = created.json()
        url = f"/api/v1/cases/{case['id']}/"
        steps = [("submit", plan.official), ("approve", plan.commander)]
        for name, who in steps:
            if (
                self.call(
                    f"POST cases/{{id}}/{name}/", who, "POST", url + f"{name}/", {}
                ).status_code
                != 200
            ):
                return False
        by_person = {i["person"]["id"]: i["id"] for i in case["invitations"]}
        for index, (_, username, person) in enumerate(plan.invitees):
            invitation = f"/api/v1/invitations/{by_person[person]}/"
            if index in plan.declines:
                answer = self.call(
                    "POST invitations/{id}/decline/",
                    username,
                    "POST",
                    invitation + "decline/",
                    {"reason": "不属本部门职责"},
                )
            else:
                answer = self.call(
                    "POST invitations/{id}/accept/", username, "POST", invitation + "accept/", {}
                )
            if answer.status_code != 200:
                return False
        if (
            self.call(
                "POST cases/{id}/complete/", plan.official, "POST", url + "complete/", {}
            ).status_code
            != 200
        ):
            return False
        departments = list(
            dict.fromkeys(d for i, (d, _, _) in enumerate(plan.invitees) if i not in plan.declines)
        )
        rated = self.call(
            "POST cases/{id}/ratings/",
            plan.official,
            "POST",
            url + "ratings/",
            {
                "ratings": [
                    {"department": d, "scores": s}
                    for d, s in zip(departments, plan.scores, strict=True)
                ]
            },
        )
        return rated.status_code == 200 and rated.json()["state"] == "closed"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=3771)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--base",
        default="http://127.0.0.1:8001,http://127.0.0.1:8002",
        help="Comma-separated web workers (requests go round-robin).",
    )
    parser.add_argument(
        "--reader", default="zhihui01", help="Who reads analytics/overview/ at the end."
    )
    args = parser.parse_args()
    bases = [b.rstrip("/") for b in args.base.split(",")]
    plans, _ = make_plans(args.cases, args.seed)
    dispatches = sum(len(p.invitees) for p in plans)
    print(
        f"{len(plans)} cases, {dispatches} person-dispatches, {args.clients} clients, "
        f"{len(bases)} workers",
        flush=True,
    )
    stats, queue, lock = Stats(), list(reversed(plans)), threading.Lock()
    outcome = {"closed": 0, "failed": 0}

    def worker(index: int) -> None:
        client = Client(bases, stats, index)
        while True:
            with lock:
                if not queue:
                    return
                plan = queue.pop()
            try:
                ok = client.live(plan)
            except requests.RequestException as exc:
                stats.add("transport", 0.0, 599, repr(exc))
                ok = False
            with lock:
                outcome["closed" if ok else "failed"] += 1

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    total = sum(len(t) for t in stats.timings.values())
    print(
        f"\n{total} requests in {elapsed:.1f} s: {total / elapsed:.1f} requests/s, "
        f"{outcome['closed'] / elapsed:.2f} cases/s; closed {outcome['closed']}, "
        f"failed {outcome['failed']}; {len(stats.errors)} error answers"
    )
    print(
        f"a district-year (3,771 cases) at this rate: {3771 / max(outcome['closed'], 1) * elapsed / 60:.1f} min\n"
    )
    print("| endpoint | requests | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|")
    for label, values in sorted(stats.timings.items()):
        print(
            f"| {label} | {len(values)} | {statistics.median(values):.0f} | "
            f"{percentile(values, 0.95):.0f} | {percentile(values, 0.99):.0f} |"
        )
    by_kind: dict[tuple[str, int], int] = defaultdict(int)
    for label, status, _ in stats.errors:
        by_kind[(label, status)] += 1
    for (label, status), n in sorted(by_kind.items()):
        sample = next(b for lab, s, b in stats.errors if (lab, s) == (label, status))
        print(f"error {status} ×{n} on {label}: {sample}")
    # The district's leader (the auditor kaohe01 owes a second factor over the API).
    reader = Client(bases, Stats(), 0)
    try:
        overview = reader.call(
            "GET analytics/overview/", args.reader, "GET", "/api/v1/analytics/overview/"
        )
        print(f"\nanalytics/overview/ ({overview.status_code}): {overview.text[:1500]}")
    except requests.HTTPError as exc:  # e.g. a reader who owes a second factor
        print(
            f"\nanalytics/overview/: {args.reader} could not log in: {getattr(exc.response, 'text', '')[:300]}"
        )


if __name__ == "__main__":
    main()
