"""The staff spreadsheet import against a raw ``bulk_create`` of the same rows (issue 16).

Run against a database seeded with the demo district (PostgreSQL for the figures)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jinshao_bench .venv/bin/python manage.py seed_demo --no-cases
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jinshao_bench nice -n 10 .venv/bin/python bench/spreadsheet_import.py

``BENCH_ROWS`` staff rows (2,000 by default: the district's staff) name ordinary
accounts the bench creates once (``bench_staff_0001``…, Chinese names, no usable
password: the staff sheet names accounts, it never creates them) and spread
them over the demo district's active departments. Every measure runs inside a
transaction rolled back at its end, so each starts from the same data, and
prints rows/s, the wall time and the SQL queries (per row and in all):

- ``admin dry run`` and ``admin confirm``: the admin's two steps, through the
  test client as the system administrator (``xitong``), csv upload then the
  confirm form; ``admin (both)`` their sum, what an administrator waits;
- ``import_sheet``: the command's path (``StaffMembershipResource.import_data``
  with the actor, not a dry run);
- ``bulk_create``: the baseline, the same memberships and their ``staff`` role
  rows by ``bulk_create`` plus the same audit trail (one ``role.granted`` record
  per role, one ``import.staffmembership`` record) by ``audit.services.record_many``,
  in one transaction.

The last column is each path's rows/s over the baseline's. ``BENCH_PROFILE=1``
prints a cProfile summary (top 25 by cumulative time, top 15 by own time) of ``import_sheet``'s path.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import tablib  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from accounts.choices import Role  # noqa: E402
from accounts.models import RoleAssignment, User  # noqa: E402
from audit import services as audit  # noqa: E402
from core.crypto import digest  # noqa: E402
from departments.models import Department, StaffMembership  # noqa: E402
from departments.resources import StaffMembershipResource  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "2000"))
PROFILE = os.environ.get("BENCH_PROFILE") == "1"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉梅春燕德文海波宁晓东雪琳浩然子涵欣怡雨轩思远"
POSTS = ["队员", "科员", "副科长", "科长", "网格员", "执法队员", "巡查员", "协管员"]


class Rollback(Exception):
    """Raised to undo a measured transaction."""


def staff_accounts(count: int) -> list[User]:
    """``count`` ordinary accounts ``bench_staff_NNNN`` with Chinese names (made once)."""
    rng = random.Random(16)
    wanted = [f"bench_staff_{i:04d}" for i in range(1, count + 1)]
    have = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    new = []
    for username in wanted:
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        if username not in have:
            user = User(username=username, name=name)
            user.set_unusable_password()
            new.append(user)
    User.objects.bulk_create(new, batch_size=500)
    by_name = User.objects.in_bulk(wanted, field_name="username")
    return [by_name[u] for u in wanted]


def sheet(users: list[User], departments: list[Department]) -> tablib.Dataset:
    rng = random.Random(61)
    headers = [str(f.column_name) for f in StaffMembershipResource().get_import_fields()]
    data = tablib.Dataset(headers=headers)
    for i, user in enumerate(users):
        data.append(
            [
                user.username,
                user.name,
                departments[i % len(departments)].code,
                rng.choice(POSTS),
                f"139{rng.randrange(10**8):08d}",
                "是",
                "是",
            ]
        )
    return data


def measured(run) -> tuple[float, int]:
    """(seconds, queries) of ``run()`` inside a transaction that is then rolled back.

    Queries are counted by an execute wrapper (``connection.queries`` keeps 9,000 at most).
    """
    count = [0]

    def counting(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    started = time.perf_counter()
    try:
        with transaction.atomic(), connection.execute_wrapper(counting):
            run()
            elapsed = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    return elapsed, count[0]


def main() -> None:
    actor = User.objects.get(username="xitong")
    departments = list(Department.objects.filter(is_active=True).order_by("code"))
    users = staff_accounts(ROWS)
    StaffMembership.objects.filter(user__in=users).delete()  # a run killed half-way
    RoleAssignment.objects.filter(user__in=users).delete()
    data = sheet(users, departments)
    csv_bytes = data.export("csv").encode()
    setup_test_environment()  # the test client then gives the admin's context (the confirm form)
    settings.JINSHAO_2FA_ENFORCED = False  # the import is measured, not the second factor
    client = Client()  # its requests are secure=True: behind HTTPS, as DEBUG off wants
    client.force_login(actor)
    by_code = {d.code: d for d in departments}
    results: list[tuple[str, float, int]] = []

    def admin_dry_run():
        response = client.post(
            reverse("admin:departments_staffmembership_import"),
            {
                "resource": 0,
                "format": 1,  # csv (BoundedXLSX, BoundedCSV)
                "import_file": SimpleUploadedFile("staff.csv", csv_bytes, content_type="text/csv"),
            },
            secure=True,
        )
        form = response.context.get("confirm_form") if response.context else None
        assert response.status_code == 200 and form is not None, (
            response.status_code,
            response.get("Location"),
            response.context and response.context.get("problems"),
        )
        admin_dry_run.confirm = dict(form.initial)

    def admin_confirm():
        response = client.post(
            reverse("admin:departments_staffmembership_process_import"),
            admin_dry_run.confirm,
            secure=True,
        )
        assert response.status_code == 302, response.status_code
        assert StaffMembership.objects.filter(user__in=users).count() == ROWS

    def admin_both():
        admin_dry_run()
        admin_confirm()

    def import_sheet():
        resource = StaffMembershipResource(actor=actor)
        result = resource.import_data(data, dry_run=False, user=actor, file_name="staff.csv")
        assert not result.has_errors() and not result.has_validation_errors()
        assert StaffMembership.objects.filter(user__in=users).count() == ROWS

    def bulk():
        memberships = []
        for row in data.dict:
            values = list(row.values())
            memberships.append(
                StaffMembership(
                    user=users[len(memberships)],
                    department=by_code[values[2]],
                    title=values[3],
                    phone=values[4],
                    on_duty=True,
                    is_active=True,
                )
            )
        for m in memberships:  # what StaffMembership.save does
            m.phone_digest = digest(m.phone)
        StaffMembership.objects.bulk_create(memberships, batch_size=500)
        roles = RoleAssignment.objects.bulk_create(
            [
                RoleAssignment(user=m.user, role=Role.STAFF, department=m.department)
                for m in memberships
            ],
            batch_size=500,
        )
        entries = [
            {
                "action": "role.granted",
                "actor": actor,
                "obj": r,
                "details": {
                    "user": r.user.username,
                    "user_id": r.user_id,
                    "role": r.role,
                    "area": None,
                    "department": r.department.code,
                    "via": "staff",
                },
            }
            for r in roles
        ]
        entries.append(
            {
                "action": "import.staffmembership",
                "actor": actor,
                "details": {"file": "staff.csv", "rows": ROWS, "new": ROWS},
            }
        )
        audit.record_many(entries)

    # the client's first request loads the admin (URLs, templates): not part of a measure
    client.get(reverse("admin:departments_staffmembership_changelist"), secure=True)
    for name, run in (
        ("bulk_create", bulk),
        ("admin dry run", admin_dry_run),
        ("admin (both)", admin_both),
        ("import_sheet", import_sheet),
    ):
        seconds, queries = measured(run)
        results.append((name, seconds, queries))
        if name == "admin (both)":  # the confirm alone: the sum less the dry run
            dry = next(r for r in results if r[0] == "admin dry run")
            results.append(("admin confirm", seconds - dry[1], queries - dry[2]))

    base = ROWS / results[0][1]
    print(f"{ROWS} staff rows, {len(departments)} departments, {connection.vendor}")
    print(f"{'path':<16} {'seconds':>8} {'rows/s':>9} {'queries':>8} {'q/row':>7} {'ratio':>6}")
    for name, seconds, queries in results:
        rate = ROWS / seconds
        print(
            f"{name:<16} {seconds:8.2f} {rate:9.0f} {queries:8d} {queries / ROWS:7.2f}"
            f" {rate / base:6.3f}"
        )
    if PROFILE:
        profiler = cProfile.Profile()
        measured(lambda: profiler.runcall(import_sheet))
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(15)
        print(out.getvalue())


if __name__ == "__main__":
    main()
