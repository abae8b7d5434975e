"""Marking days stale when their cases change (any save or delete, services or not)."""

from __future__ import annotations

from analytics.facts import day_of, mark_stale
from cases.models import Case, Invitation


def case_changed(sender, instance, **kwargs) -> None:
    if instance.created_at is not None:
        mark_stale([day_of(instance.created_at)])


def related_changed(sender, instance, **kwargs) -> None:
    """An invitation (``case_id``) changed: its case's day is stale.

    The case's ``created_at`` never changes, so the case the service already holds on the
    invitation (``instance.case``, when loaded) gives it without a query.
    """
    if Invitation.case.is_cached(instance):
        created = instance.case.created_at
    else:
        created = (
            Case.objects.filter(pk=instance.case_id).values_list("created_at", flat=True).first()
        )
    if created is not None:
        mark_stale([day_of(created)])


def case_moved(sender, instance, **kwargs) -> None:
    """A case was saved or deleted: the walls above its community hear of it after commit."""
    from django.db import transaction

    from analytics import wall

    community_id = instance.community_id
    # The path without a query when the case's community is loaded (the services load it).
    path = instance.community.path if Case.community.is_cached(instance) else None
    transaction.on_commit(lambda: wall.case_moved(community_id, path), robust=True)


def escalated(sender, case, event, **kwargs) -> None:
    """An escalation or overdue mark (after commit): the walls list them."""
    from analytics import wall

    if event.kind in wall.ESCALATION_KINDS:
        path = case.community.path if Case.community.is_cached(case) else None
        wall.case_moved(case.community_id, path)
