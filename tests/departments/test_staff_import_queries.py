"""The staff import costs a fixed number of queries, whatever its length (issue 16).

Accounts, departments, memberships and roles are read once per import, the
memberships written in bulk and the staff roles granted through the role
service's bulk form: the rows, the roles and the audit records are those of
one row at a time.
"""

from __future__ import annotations

import pytest
import tablib
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.choices import Role
from accounts.models import RoleAssignment, User
from audit.models import AuditRecord
from departments.models import StaffMembership
from departments.resources import StaffMembershipResource
from tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def sheet(rows: list[list]) -> tablib.Dataset:
    headers = [str(f.column_name) for f in StaffMembershipResource().get_import_fields()]
    data = tablib.Dataset(headers=headers)
    for row in rows:
        data.append(row)
    return data


def people(count: int, prefix: str) -> list[User]:
    return [UserFactory(username=f"{prefix}{i:03d}", name=f"队员{i}") for i in range(count)]


def staff_rows(users: list[User], departments) -> list[list]:
    return [
        [
            u.username,
            u.name,
            departments[i % len(departments)].code,
            "队员",
            "13800000000",
            "是",
            "是",
        ]
        for i, u in enumerate(users)
    ]


def queries_of(world, rows: list[list]) -> int:
    resource = StaffMembershipResource(actor=world.sysadmin, ip="10.1.2.3")
    with CaptureQueriesContext(connection) as captured:
        result = resource.import_data(sheet(rows), user=world.sysadmin)
    assert not result.has_errors() and not result.has_validation_errors(), [
        (r.number, r.error_dict) for r in result.invalid_rows
    ]
    return len(captured.captured_queries)


def test_the_staff_import_takes_as_many_queries_for_50_rows_as_for_10(world):
    departments = [world.dept_a, world.dept_b, DepartmentFactory(code="ZZ", name="住建委")]
    queries_of(world, staff_rows(people(1, "warm"), departments))  # caches (content types…) filled
    few = queries_of(world, staff_rows(people(10, "few"), departments))
    many_users = people(50, "many")
    many = queries_of(world, staff_rows(many_users, departments))
    assert many == few, (few, many)
    # the same outcome as one row at a time: memberships, roles, one audit record per role
    assert StaffMembership.objects.filter(user__in=many_users, is_active=True).count() == 50
    granted = AuditRecord.objects.filter(
        action="role.granted", actor=world.sysadmin, ip="10.1.2.3", details__via="staff"
    )
    assert granted.filter(details__user__startswith="many").count() == 50
    assert RoleAssignment.objects.filter(user__in=many_users, role=Role.STAFF).count() == 50
    record = granted.get(details__user="many000")
    assert record.details == {
        "user": "many000",
        "user_id": many_users[0].pk,
        "role": "staff",
        "area": None,
        "department": departments[0].code,
        "via": "staff",
    }


def test_updating_existing_staff_also_takes_a_fixed_number_of_queries(world):
    departments = [world.dept_a, world.dept_b]
    users = people(30, "upd")
    queries_of(world, staff_rows(users, departments))
    first = queries_of(
        world, [[*r[:3], "科长", *r[4:]] for r in staff_rows(users[:5], departments)]
    )
    second = queries_of(world, [[*r[:3], "科员", *r[4:]] for r in staff_rows(users, departments)])
    assert second == first
    assert set(StaffMembership.objects.filter(user__in=users).values_list("title", flat=True)) == {
        "科员"
    }
    phone = StaffMembership.objects.get(user=users[0])
    assert phone.phone_digest  # the digest save() keeps is kept by the bulk writes too


def test_the_same_person_twice_in_a_file_is_one_membership_the_last_row_winning(world):
    [person] = people(1, "twice")
    rows = [
        [person.username, person.name, world.dept_a.code, "队员", "", "是", "是"],
        [person.username, person.name, world.dept_a.code, "队长", "", "否", "是"],
    ]
    queries_of(world, rows)
    membership = StaffMembership.objects.get(user=person)
    assert (membership.title, membership.on_duty) == ("队长", False)
    assert RoleAssignment.objects.filter(user=person, role=Role.STAFF).count() == 1


def test_an_inactive_row_takes_the_staff_role_away_audited(world):
    assert RoleAssignment.objects.filter(
        user=world.staff_a, role=Role.STAFF, department=world.dept_a
    ).exists()
    row = [world.staff_a.username, world.staff_a.name, world.dept_a.code, "队员", "", "是", "否"]
    queries_of(world, [row])
    assert not RoleAssignment.objects.filter(
        user=world.staff_a, role=Role.STAFF, department=world.dept_a
    ).exists()
    assert AuditRecord.objects.filter(
        action="role.revoked", actor=world.sysadmin, details__user_id=world.staff_a.pk
    ).exists()


def test_an_administrator_named_in_a_big_file_refuses_the_whole_file(world):
    users = people(20, "big")
    rows = staff_rows(users, [world.dept_a])
    rows.append(
        [world.sysadmin.username, world.sysadmin.name, world.dept_a.code, "", "", "是", "是"]
    )
    resource = StaffMembershipResource(actor=world.superuser)
    result = resource.import_data(sheet(rows), user=world.superuser)
    assert [r.number for r in result.invalid_rows] == [21]
    assert not StaffMembership.objects.filter(user__in=users).exists()
    assert not RoleAssignment.objects.filter(user__in=users).exists()
