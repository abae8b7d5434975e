"""Rebuilding the stale daily figures (on commit of a change, and by beat as a safety net)."""

from celery import shared_task

from analytics import facts


@shared_task(
    name="analytics.refresh_stale_days",
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=3,
)
def refresh_stale_days() -> int:
    """Recompute the stale days no other worker holds; the number of marks cleared.

    Idempotent and safe to overlap (``analytics.facts.refresh_stale``).
    """
    return facts.refresh_stale()
