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

Every person is logged in before the clock starts (``--login mint``: token pairs issued
in-process by the login endpoint's own ``token_pair``; ``--login http``: ``auth/token/``
over HTTP, timed apart): a phone logs in once and keeps its login for days, so a case's
life costs no login. Before, each client logged in every person it acted as, and a
third of the replay's requests were logins at the production password hasher's cost.
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


class Logins:
    """Each person's token pair, shared by every client thread (one phone, one login).

    Made before the clock starts: a phone logs in once and keeps its refresh token for days,
    so a case's life costs no login. ``mint`` issues the pairs in-process through the same
    function the login endpoint answers with (``accounts.api.tokens.token_pair``); ``http``
    logs each person in over ``auth/token/`` (the production password hasher: ~0.5 s of CPU
    each), timed on its own. When an access token expires (15 minutes) the next request of
    that person refreshes it over ``auth/token/refresh/``, once for all threads.
    """

    def __init__(self, bases: list[str], stats: Stats) -> None:
        self.bases, self.stats = bases, stats
        self.pairs: dict[str, dict[str, str]] = {}
        self.locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self.guard = threading.Lock()

    def prepare(
        self, usernames: list[str], mode: str, clients: int, *, second_factor: str = ""
    ) -> tuple[int, float]:
        """Log every person in; (logins, seconds taken). With ``mint``, ``second_factor``
        names the one person whose login carries the second factor (the reader)."""
        start = time.perf_counter()
        if mode == "mint":
            from accounts.api.tokens import token_pair

            people = User.objects.in_bulk(usernames, field_name="username")
            for username in usernames:
                self.pairs[username] = token_pair(
                    people[username], second_factor=username == second_factor
                )
        else:
            pending = list(usernames)

            def log_in(index: int) -> None:
                session = requests.Session()
                while True:
                    with self.guard:
                        if not pending:
                            return
                        username = pending.pop()
                    base = self.bases[index % len(self.bases)]
                    answer = session.post(
                        base + "/api/v1/auth/token/",
                        json={"username": username, "password": DEMO_PASSWORD},
                        timeout=TIMEOUT,
                    )
                    answer.raise_for_status()
                    self.pairs[username] = answer.json()

            threads = [threading.Thread(target=log_in, args=(i,)) for i in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        return len(self.pairs), time.perf_counter() - start

    def access(self, username: str) -> str:
        return self.pairs[username]["access"]

    def renew(self, session: requests.Session, base: str, username: str, stale: str) -> str:
        """A fresh access token for ``username`` (refreshed once, whichever thread asks)."""
        with self.locks[username]:
            pair = self.pairs[username]
            if pair["access"] != stale:
                return pair["access"]  # another thread refreshed it meanwhile
            start = time.perf_counter()
            answer = session.post(
                base + "/api/v1/auth/token/refresh/",
                json={"refresh": pair["refresh"]},
                timeout=TIMEOUT,
            )
            self.stats.add(
                "POST auth/token/refresh/",
                (time.perf_counter() - start) * 1000,
                answer.status_code,
                answer.text,
            )
            answer.raise_for_status()
            fresh = answer.json()
            self.pairs[username] = {"access": fresh["access"], "refresh": fresh["refresh"]}
            return fresh["access"]


class Client:
    """One replaying thread: one HTTP connection pool, every person's shared login, round-robin
    workers."""

    def __init__(self, bases: list[str], stats: Stats, logins: Logins, offset: int) -> None:
        self.bases, self.stats, self.logins, self.turn = bases, stats, logins, offset
        self.session = requests.Session()

    def base(self) -> str:
        self.turn += 1
        return self.bases[self.turn % len(self.bases)]

    def call(
        self, label: str, username: str, method: str, path: str, body=None, files=None
    ) -> requests.Response:
        access = self.logins.access(username)
        for _attempt in range(2):
            start = time.perf_counter()
            response = self.session.request(
                method,
                self.base() + path,
                json=body,
                files=files,
                headers={"Authorization": f"Bearer {access}"},
                timeout=TIMEOUT,
            )
            ms = (time.perf_counter() - start) * 1000
            if response.status_code == 401:  # the access token expired: refresh, then again
                access = self.logins.renew(self.session, self.base(), username, access)
                continue
            self.stats.add(label, ms, response.status_code, response.text)
            return response
        self.stats.add(label, ms, response.status_code, response.text)
        return response

    def upload_photo(self, username: str) -> str | None:
        """``POST uploads/`` as the phone does before raising a case: the upload's id."""
        response = self.call(
            "POST uploads/",
            username,
            "POST",
            "/api/v1/uploads/",
            files={"file": ("site.jpg", SITE_PHOTO, "image/jpeg")},
        )
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
        "--reader",
        default="kaohe01",
        help="Who reads the district's analytics/overview/ at the end (with --login mint, "
        "logged in with the second factor; with --login http, name one who owes none).",
    )
    parser.add_argument(
        "--login",
        choices=("mint", "http"),
        default="mint",
        help="How every person is logged in before the clock: token pairs issued in-process "
        "(mint, the default) or auth/token/ over HTTP (http, timed separately).",
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
    logins = Logins(bases, stats)
    people = sorted(
        {p.official for p in plans}
        | {p.commander for p in plans}
        | {u for p in plans for _, u, _ in p.invitees}
        | {args.reader}
    )
    count, seconds = logins.prepare(people, args.login, args.clients, second_factor=args.reader)
    print(
        f"{count} people logged in ({args.login}) before the clock in {seconds:.1f} s", flush=True
    )

    def worker(index: int) -> None:
        client = Client(bases, stats, logins, index)
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
    # The district's figures, read as the auditor (whose login carries the second factor).
    reader = Client(bases, Stats(), logins, 0)
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
