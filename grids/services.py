"""State changes of the area tree and workstations."""

from __future__ import annotations

from django.db import transaction

from accounts import services as accounts
from accounts.choices import Role
from grids.models import Workstation


def workstation_posts(workstation: Workstation) -> list[tuple[object, Role | None]]:
    """``(person, role the post carries)`` for everyone a workstation names (deputies: none)."""
    posts: list[tuple[object, Role | None]] = [
        (workstation.commander, Role.COMMANDER),
        (workstation.grid_leader, Role.GRID_LEADER),
    ]
    if workstation.pk is not None:
        posts += [(deputy, None) for deputy in workstation.deputy_commanders.all()]
    return [(person, role) for person, role in posts if person is not None]


def check_workstation_people(people, *, grid, actor) -> None:
    """Raise ``accounts.services.SeparationRefused`` unless ``actor`` may name these people.

    ``people`` is ``(person, role)`` pairs (role ``None`` for a deputy, who
    gets no role but is still never an administrator account). Only existing,
    ordinary accounts are named (``accounts.services.check_nomination``).
    """
    for person, role in people:
        if role is None:
            accounts.check_nomination(person, Role.VILLAGE_OFFICIAL, actor=actor, grant=False)
        else:
            accounts.check_nomination(person, role, area=grid, actor=actor)


@transaction.atomic
def sync_workstation_roles(workstation: Workstation, *, actor, ip: str | None = None) -> None:
    """Give the workstation's commander and grid leader their roles over its grid.

    The workstation is where an administrator names these people; the role
    assignments are what permissions read. Every grant goes through
    ``accounts.services.grant_role`` (checked and audited with ``actor`` and
    ``ip``); naming an administrator account raises ``SeparationRefused`` and
    nothing is saved. Roles a person held through an earlier appointment here
    stay until the security administrator removes them.
    """
    check_workstation_people(workstation_posts(workstation), grid=workstation.grid, actor=actor)
    for person, role in workstation_posts(workstation):
        if role is not None:
            accounts.ensure_role(
                person, role, area=workstation.grid, actor=actor, ip=ip, via="workstation"
            )
