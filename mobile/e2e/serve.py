"""A real server on the demo district for the browser tests (mobile/e2e/).

Seeds a small demo district once per version of the migrations and the seed
code (cached under var/e2e-cache/<digest>/, as bin/setup stamps what it
installed), copies it to a fresh temporary directory, adds the few cases the
tests need through the services, prints one line ``E2E {json}`` (what the
tests read: the base URL and case ids), then becomes uvicorn on
``127.0.0.1:$E2E_PORT`` serving mobile/dist. The caller stops it (SIGTERM);
e2e/global-setup.ts then removes the temporary directory (``var`` in the line).

Usage: .venv/bin/python mobile/e2e/serve.py   (from anywhere; E2E_PORT required)
       .venv/bin/python mobile/e2e/serve.py --build <app dir> <var>   (a second server
       on the first one's directory, serving another build; e2e/offline.spec.ts)

With ``E2E_SERVE_VAR=<var>`` (the ``var`` of a running one) it seeds nothing and
serves that same directory (database, keys, sessions) on ``$E2E_PORT``: a second
server a test may kill and start again without touching the one other tests use
(e2e/outbox.spec.ts). The caller stops it and leaves the directory to its owner.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
SEED = ["--cases", "80", "--staff", "60", "--quiet"]


def digest() -> str:
    """What the seeded database depends on: every migration, the seed code and its data."""
    parts = sorted(ROOT.glob("*/migrations/*.py")) + [
        ROOT / "core/management/commands/seed_demo.py",
        ROOT / "core/demo_data.py",
    ]
    h = hashlib.sha256(" ".join(SEED).encode())
    for path in parts:
        h.update(path.relative_to(ROOT).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def environment(var: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"SECRET_KEY", "JINSHAO_AUDIT_KEY", "JINSHAO_FIELD_KEY", "DATABASE_URL", "REDIS_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        JINSHAO_DEMO="1",  # DEBUG and this directory's own keys (var/demo-keys.json)
        JINSHAO_VAR_DIR=str(var),
        DATABASE_URL=f"sqlite:///{var / 'jinshao.sqlite3'}",
        JINSHAO_2FA_ENFORCED="false",
        JINSHAO_LOGIN_RATE="1000/min",  # many log-ins from one address; lock-out still counts
        JINSHAO_LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
    )
    return env


def seeded() -> Path:
    cache = ROOT / "var" / "e2e-cache" / digest()
    if (cache / "jinshao.sqlite3").is_file():
        return cache
    build = Path(tempfile.mkdtemp(prefix="jinshao-e2e-seed-"))
    env = environment(build)
    for command in (["migrate", "--noinput", "-v0"], ["seed_demo", *SEED]):
        subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=env, check=True, timeout=900)
    if cache.parent.exists():
        shutil.rmtree(cache.parent)  # older seeds
    cache.parent.mkdir(parents=True)
    shutil.move(str(build), cache)
    return cache


FIXTURES = r"""
import json
from accounts.models import User
from cases import services
from cases.models import Case
from templates.models import Category
official = User.objects.get(username="cun001")
community = official.role_assignments.get(role="village_official").area
mine = services.create_case(actor=official, community=community, title="浏览器测试：路灯不亮",
    category=Category.objects.filter(is_active=True).order_by("pk").first(), submit=True)
outside = Case.objects.exclude(community=community).order_by("-id").first()
# Two deliveries from the city platform waiting for the commander zhihui01: its category
# code is mapped to no template, so a person must choose one (intake.spec.ts / screens.spec.ts).
from grids.models import Area
from integrations import services as intake
from integrations.models import ExternalSystem
grid = User.objects.get(username="zhihui01").role_assignments.get(role="commander").area
from django.db.models import Q
place = Area.objects.communities().filter(
    Q(pk=grid.pk) | Q(parent=grid) | Q(parent__parent=grid)).order_by("pk").first()
system = ExternalSystem.objects.get(code="ywtg")
reviews = []
for n, title in enumerate(("浏览器测试：井盖缺失", "浏览器测试：重复上报")):
    result = intake.take_in(system, intake.IntakeRequest(
        external_id=f"E2E-{n}", title=title, address="测试路1号", community=place,
        problems=[{"code": "unmapped_category", "value": "E2E-X"}]))
    reviews.append(result.review.pk)
# a case of cun001's whose room is open, with 叶磊 (s0001) working on it (e2e/outbox.spec.ts)
# and one the caller takes s0001 off while s0001 writes offline (refused on arrival)
staff = User.objects.get(username="s0001")
def in_progress(title):
    case = services.create_case(actor=official, community=community, title=title,
        category=Category.objects.filter(is_active=True).order_by("pk").first(),
        invitees=[(staff.memberships.first().department, staff)], submit=True)
    services.approve_case(case, actor=User.objects.get(username="zhihui01"))
    for invitation in case.invitations.all():
        services.accept_invitation(invitation, actor=invitation.person)
    return case
talking = in_progress("浏览器测试：群聊离线发送")
withdrawn = in_progress("浏览器测试：离线时被撤回")
print(json.dumps({"pending_review": mine.pk, "outside": outside.pk, "intake": reviews,
    "intake_community": place.name, "room": talking.pk, "withdrawn": withdrawn.pk}))
"""


def serve(port: str, env: dict[str, str]) -> None:
    """Become uvicorn on 127.0.0.1:``port`` (never returns)."""
    os.chdir(ROOT)
    os.execve(
        PYTHON,
        [
            PYTHON,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            port,
            "--log-level",
            "warning",
        ],
        env,
    )


def serve_build(app_dir: str, var: str) -> None:
    """A second server on the same seeded directory that serves another build of the app
    (``JINSHAO_APP_DIR``): the service worker tests swap builds under it without
    touching the one every other test uses. ``E2E_PORT`` says where it listens."""
    env = environment(Path(var))
    env["JINSHAO_APP_DIR"] = app_dir
    serve(os.environ["E2E_PORT"], env)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--build":
        serve_build(sys.argv[2], sys.argv[3])
        return
    port = os.environ["E2E_PORT"]
    shared = os.environ.get("E2E_SERVE_VAR")
    if shared:
        print("E2E " + json.dumps({"baseURL": f"http://127.0.0.1:{port}"}), flush=True)
        serve(port, environment(Path(shared)))
    var = Path(tempfile.mkdtemp(prefix="jinshao-e2e-"))
    for name in ("jinshao.sqlite3", "demo-keys.json"):
        shutil.copy(seeded() / name, var / name)
    env = environment(var)
    try:
        made = subprocess.run(
            [PYTHON, "manage.py", "shell", "-c", FIXTURES],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    except BaseException:
        shutil.rmtree(var, ignore_errors=True)
        raise
    ids = json.loads(made.stdout.strip().splitlines()[-1])
    print(
        "E2E " + json.dumps({"baseURL": f"http://127.0.0.1:{port}", "var": str(var), **ids}),
        flush=True,
    )
    serve(port, env)


if __name__ == "__main__":
    main()
