"""Reads of the integration, scoped to the asker."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.choices import Role
from accounts.selectors import area_paths
from integrations.models import IntakeReview


def reviews_visible_to(user) -> QuerySet[IntakeReview]:
    """The review queue as ``user`` sees it.

    Administrators who run the queue see all of it. A commander sees the
    entries of communities under them, and those whose community is not known
    yet (an unmapped area code could be anyone's). Everyone else sees nothing.
    """
    queryset = IntakeReview.objects.select_related("system", "community", "case")
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.has_perm("integrations.view_intakereview"):
        return queryset
    paths = area_paths(user, [Role.COMMANDER])
    if not paths:
        return queryset.none()
    mine = Q(community__isnull=True)
    for path in paths:
        mine |= Q(community__path__startswith=path)
    return queryset.filter(mine)
