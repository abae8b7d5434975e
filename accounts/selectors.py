"""What a person may reach: their roles and the scopes those roles cover.

Role assignments are read once per user object and cached on it, so a
permission check inside a loop costs no query after the first.
"""

from __future__ import annotations

from collections.abc import Iterable

from accounts.choices import Role
from accounts.models import RoleAssignment

_CACHE_ATTR = "_jinshao_role_assignments"


def role_assignments(user) -> list[RoleAssignment]:
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = list(RoleAssignment.objects.filter(user=user).select_related("area", "department"))
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget_roles(user) -> None:
    """Drop the cached assignments (after the person's roles change)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def has_role(user, roles: Role | Iterable[Role]) -> bool:
    wanted = {roles} if isinstance(roles, str) else set(roles)
    return any(a.role in wanted for a in role_assignments(user))


def area_paths(user, roles: Iterable[Role]) -> list[str]:
    """Tree paths of the areas over which ``user`` holds one of ``roles``."""
    wanted = set(roles)
    return [a.area.path for a in role_assignments(user) if a.role in wanted and a.area is not None]


def covers_area(user, roles: Iterable[Role], area) -> bool:
    """True when ``user`` holds one of ``roles`` over ``area`` or a node above it."""
    return any(area.path.startswith(path) for path in area_paths(user, roles))


def department_ids(user, roles: Iterable[Role]) -> set[int]:
    wanted = set(roles)
    return {a.department_id for a in role_assignments(user) if a.role in wanted and a.department_id}


def role_holders_over(area, role: Role):
    """``role_holder_ids_over`` as an unevaluated queryset of user ids (for a subquery)."""
    codes = [c for c in area.path.strip("/").split("/") if c]
    paths = ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]
    return RoleAssignment.objects.filter(
        role=role, area__path__in=paths, user__is_active=True
    ).values_list("user_id", flat=True)


def role_holder_ids_over(area, role: Role) -> set[int]:
    """Active people holding ``role`` over ``area`` or a node above it."""
    return set(role_holders_over(area, role))


def commander_ids_over(area) -> set[int]:
    """People holding the commander role over ``area`` or a node above it."""
    return role_holder_ids_over(area, Role.COMMANDER)


def waiting_counts(user) -> dict[str, int]:
    """What waits for ``user``: cases to review, invitations to answer, cases to rate,
    unread notifications and unread messages in their open rooms."""
    from django.db.models import Q

    from cases.choices import CaseState, InvitationState
    from cases.models import Case, Invitation
    from chat.selectors import unread_total
    from notifications.models import Notification

    paths = area_paths(user, [Role.COMMANDER])
    to_review = 0
    if paths:
        in_scope = Q()
        for path in paths:
            in_scope |= Q(community__path__startswith=path)
        to_review = Case.objects.filter(in_scope, state=CaseState.PENDING_REVIEW).count()
    return {
        "to_review": to_review,
        "invitations": Invitation.objects.filter(
            person=user,
            state=InvitationState.PENDING,
            case__state__in=[CaseState.DISPATCHED, CaseState.IN_PROGRESS],
        ).count(),
        "to_rate": Case.objects.filter(caller=user, state=CaseState.PENDING_RATING).count(),
        "notifications": Notification.objects.unread().filter(recipient=user).count(),
        "messages": unread_total(user),
    }
