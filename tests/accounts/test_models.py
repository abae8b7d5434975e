"""Role assignments: scope per role, and the three administrator roles kept apart."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.choices import Role
from accounts.models import RoleAssignment
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        (Role.COMMANDER, None),
        (Role.COMMANDER, "dept_a"),
        (Role.STAFF, "grid"),
        (Role.AUDITOR, "grid"),
    ],
)
def test_scope_must_fit_the_role(world, role, scope):
    kwargs = {}
    if scope == "dept_a":
        kwargs["department"] = world.dept_a
    elif scope:
        kwargs["area"] = getattr(world, scope)
    assignment = RoleAssignment(user=world.stranger, role=role, **kwargs)
    with pytest.raises(ValidationError):
        assignment.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        assignment.save()


@pytest.mark.parametrize("second", [Role.SECADMIN, Role.AUDITADMIN])
def test_no_account_holds_two_administrator_roles(world, second):
    admin = UserFactory(username="admin_x")
    RoleAssignment.objects.create(user=admin, role=Role.SYSADMIN)
    with pytest.raises(ValidationError):
        RoleAssignment(user=admin, role=second).full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(user=admin, role=second)
    assert RoleAssignment.objects.filter(user=admin).count() == 1


def test_business_roles_combine_freely(world):
    RoleAssignment.objects.create(user=world.commander, role=Role.LEADER, area=world.town)
    RoleAssignment.objects.create(user=world.sysadmin, role=Role.AUDITOR)
    assert world.commander.role_assignments.count() == 2
