"""State changes of the area tree and workstations."""

from __future__ import annotations

from django.db import transaction

from accounts.choices import Role
from accounts.models import RoleAssignment
from grids.models import Workstation


@transaction.atomic
def sync_workstation_roles(workstation: Workstation) -> None:
    """Give the workstation's commander and grid leader their roles over its grid.

    The workstation is where an administrator names these people; the role
    assignments are what permissions read. Roles a person held through an
    earlier appointment here stay until an administrator removes them.
    """
    for user, role in (
        (workstation.commander, Role.COMMANDER),
        (workstation.grid_leader, Role.GRID_LEADER),
    ):
        if user is not None:
            RoleAssignment.objects.get_or_create(user=user, role=role, area=workstation.grid)
