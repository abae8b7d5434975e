"""State changes of departments and their staff."""

from __future__ import annotations

from django.db import transaction

from accounts.choices import Role
from accounts.models import RoleAssignment
from departments.models import StaffMembership


@transaction.atomic
def sync_staff_role(membership: StaffMembership) -> None:
    """Keep the ``staff`` role of a person in line with their membership.

    An active membership grants the staff role over its department; an
    inactive one takes it away. The admin and the spreadsheet import call this
    after saving a membership.
    """
    assignments = RoleAssignment.objects.filter(
        user_id=membership.user_id, role=Role.STAFF, department_id=membership.department_id
    )
    if membership.is_active:
        if not assignments.exists():
            RoleAssignment.objects.create(
                user_id=membership.user_id, role=Role.STAFF, department_id=membership.department_id
            )
    else:
        assignments.delete()
