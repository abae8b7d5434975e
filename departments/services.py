"""State changes of departments and their staff."""

from __future__ import annotations

from django.db import transaction

from accounts import services as accounts
from accounts.choices import Role
from accounts.models import RoleAssignment
from departments.models import Department, StaffMembership


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
    """Keep the ``staff`` roles of the membership's person in line with their memberships.

    Called after a membership is saved (admin form, department inline,
    spreadsheet import). See ``sync_staff_roles_of``; an active membership of
    an administrator account raises ``SeparationRefused``.
    """
    if membership.is_active:
        check_staff_member(membership.user, membership.department, actor=actor)
    sync_staff_roles_of(membership.user, actor=actor, ip=ip, via=via)


@transaction.atomic
def sync_staff_roles_of(user, *, actor, ip: str | None = None, via: str = "staff") -> None:
    """Make ``user``'s ``staff`` roles exactly the departments of their active memberships.

    A membership made inactive, deleted, or moved to another department or
    person takes its role away; an active one grants it. Both go through
    ``accounts.services`` (checked, audited with ``actor`` and ``ip``), so
    losing the role also ends the person's access to that department's
    cases, sockets included. Raises ``SeparationRefused`` (nothing changed).
    """
    wanted = set(
        StaffMembership.objects.filter(user=user, is_active=True).values_list(
            "department_id", flat=True
        )
    )
    held = RoleAssignment.objects.filter(user=user, role=Role.STAFF).select_related(
        "user", "department"
    )
    for assignment in held:
        if assignment.department_id not in wanted:
            accounts.revoke_role(assignment, actor=actor, ip=ip, via=via)
    for membership in StaffMembership.objects.filter(user=user, is_active=True).select_related(
        "department"
    ):
        accounts.ensure_role(
            user, Role.STAFF, department=membership.department, actor=actor, ip=ip, via=via
        )


@transaction.atomic
def remove_staff_members(memberships, *, actor, ip: str | None = None, via: str = "staff") -> int:
    """Delete ``memberships`` (any iterable) and take their staff roles away; how many went."""
    people = {m.user for m in memberships}
    removed = 0
    for membership in memberships:
        membership.delete()
        removed += 1
    for user in people:
        sync_staff_roles_of(user, actor=actor, ip=ip, via=via)
    return removed


@transaction.atomic
def sync_staff_roles_of_many(users, *, actor, ip: str | None = None, via: str = "staff") -> None:
    """``sync_staff_roles_of`` for many people at once (a staff import), in a fixed number
    of queries: the roles to take away, then those to give, through
    ``accounts.services.revoke_roles`` and ``grant_roles`` (the same rules, the same audit
    record per role). Raises ``SeparationRefused`` or ``ValidationFailed`` (nothing changed).
    """
    people = {u.pk: u for u in users}
    wanted: dict[int, set[int]] = {pk: set() for pk in people}
    for user_id, department_id in StaffMembership.objects.filter(
        user_id__in=people, is_active=True
    ).values_list("user_id", "department_id"):
        wanted[user_id].add(department_id)
    held = list(
        RoleAssignment.objects.filter(user_id__in=people, role=Role.STAFF).select_related(
            "user", "department"
        )
    )
    accounts.revoke_roles(
        [a for a in held if a.department_id not in wanted[a.user_id]], actor=actor, ip=ip, via=via
    )
    kept = {(a.user_id, a.department_id) for a in held}
    departments = Department.objects.in_bulk({d for ds in wanted.values() for d in ds})
    accounts.grant_roles(
        [
            RoleAssignment(user=people[user_id], role=Role.STAFF, department=departments[d])
            for user_id in sorted(wanted)
            for d in sorted(wanted[user_id], key=lambda pk: departments[pk].code)
            if (user_id, d) not in kept
        ],
        actor=actor,
        ip=ip,
        via=via,
    )
