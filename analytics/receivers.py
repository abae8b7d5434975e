"""Marking days stale when their cases change (any save or delete, services or not)."""

from __future__ import annotations

from analytics.facts import day_of, mark_stale
from cases.models import Case
from ratings.models import Rating


def case_changed(sender, instance, **kwargs) -> None:
    if instance.created_at is not None:
        mark_stale([day_of(instance.created_at)])


def related_changed(sender, instance, **kwargs) -> None:
    """An invitation or rating (``case_id``) or a score (``rating.case_id``) changed."""
    case_id = getattr(instance, "case_id", None)
    if case_id is None and getattr(instance, "rating_id", None):
        case_id = (
            Rating.objects.filter(pk=instance.rating_id).values_list("case_id", flat=True).first()
        )
    created = Case.objects.filter(pk=case_id).values_list("created_at", flat=True).first()
    if created is not None:
        mark_stale([day_of(created)])
