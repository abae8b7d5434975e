"""State changes of departments and their staff."""

from __future__ import annotations

from django.db import transaction

from accounts import services as accounts
from accounts.choices import Role
from accounts.models import RoleAssignment
from departments.models import StaffMembership


def check_staff_member(user, department, *, actor) -> None:
    """Raise ``accounts.services.SeparationRefused`` unless ``user`` may join ``department``.

    Only existing, ordinary accounts join the staff: never an administrator
    account, never the person adding them (``accounts.services.check_nomination``).
    """
    accounts.check_nomination(user, Role.STAFF, department=department, actor=actor)


@transaction.atomic
def sync_staff_role(
    membership: StaffMembership, *, actor, ip: str | None = None, via: str = "staff"
) -> None:
    """Keep the ``staff`` role of a person in line with their membership.

    An active membership grants the staff role over its department; an
    inactive one takes it away. Both go through ``accounts.services``
    (checked, audited with ``actor`` and ``ip``); a membership of an
    administrator account raises ``SeparationRefused``. The admin and the
    spreadsheet import call this after saving a membership.
    """
    if membership.is_active:
        check_staff_member(membership.user, membership.department, actor=actor)
        accounts.ensure_role(
            membership.user,
            Role.STAFF,
            department=membership.department,
            actor=actor,
            ip=ip,
            via=via,
        )
        return
    for assignment in RoleAssignment.objects.filter(
        user_id=membership.user_id, role=Role.STAFF, department_id=membership.department_id
    ).select_related("user", "department"):
        accounts.revoke_role(assignment, actor=actor, ip=ip, via=via)
