"""Leaving a department's staff ends the staff role, whichever way the membership goes.

Deleting a membership (its page, the list's bulk action, the department's
inline) or moving it to another department or person takes the old staff
role away through ``accounts.services`` (audited), so the person no longer
reaches the department's cases.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.choices import Role
from accounts.models import RoleAssignment
from audit.models import AuditRecord
from departments.models import StaffMembership
from tests.accounts.test_separation import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def keeper(world) -> Client:
    world.sysadmin.is_staff = True
    world.sysadmin.save(update_fields=["is_staff"])
    client = Client(REMOTE_ADDR="10.1.2.3")
    client.force_login(world.sysadmin)
    return client


def staff_departments(user) -> set[int]:
    return set(
        RoleAssignment.objects.filter(user=user, role=Role.STAFF).values_list(
            "department_id", flat=True
        )
    )


def revoked_by(actor, user) -> bool:
    return AuditRecord.objects.filter(
        action="role.revoked", actor=actor, ip="10.1.2.3", details__user_id=user.pk
    ).exists()


def test_deleting_a_membership_ends_the_staff_role(world, keeper):
    assert world.dept_a.pk in staff_departments(world.staff_a)  # the role was there to end
    membership = StaffMembership.objects.get(user=world.staff_a, department=world.dept_a)
    url = reverse("admin:departments_staffmembership_delete", args=[membership.pk])
    assert keeper.post(url, {"post": "yes"}).status_code == 302
    assert world.dept_a.pk not in staff_departments(world.staff_a)
    assert revoked_by(world.sysadmin, world.staff_a)


def test_the_bulk_delete_ends_every_staff_role(world, keeper):
    assert world.dept_a.pk in staff_departments(world.staff_a) & staff_departments(world.staff_a2)
    ids = list(StaffMembership.objects.filter(department=world.dept_a).values_list("pk", flat=True))
    response = keeper.post(
        reverse("admin:departments_staffmembership_changelist"),
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert response.status_code == 302
    assert world.dept_a.pk not in staff_departments(world.staff_a)
    assert world.dept_a.pk not in staff_departments(world.staff_a2)


def test_moving_a_membership_to_another_department_moves_the_role(world, keeper):
    membership = StaffMembership.objects.get(user=world.staff_a, department=world.dept_a)
    url = reverse("admin:departments_staffmembership_change", args=[membership.pk])
    data = form_data(keeper.get(url))
    data["department"] = str(world.dept_b.pk)
    assert keeper.post(url, data).status_code == 302
    assert staff_departments(world.staff_a) == {world.dept_b.pk}


def test_deleting_a_row_of_the_department_page_ends_the_role(world, keeper):
    assert world.dept_a.pk in staff_departments(world.staff_a)  # the role was there to end
    url = reverse("admin:departments_department_change", args=[world.dept_a.pk])
    data = form_data(keeper.get(url))
    n = int(data["memberships-TOTAL_FORMS"])
    row = next(
        i
        for i in range(n)
        if data[f"memberships-{i}-id"]
        == str(StaffMembership.objects.get(user=world.staff_a, department=world.dept_a).pk)
    )
    data[f"memberships-{row}-DELETE"] = "on"
    assert keeper.post(url, data).status_code == 302
    assert world.dept_a.pk not in staff_departments(world.staff_a)
    assert world.dept_a.pk in staff_departments(world.staff_a2)
