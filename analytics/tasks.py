"""Rebuilding the stale daily figures (on commit of a change, and by beat as a safety net)."""

from celery import shared_task

from analytics import facts


@shared_task(
    name="analytics.refresh_stale_days",
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=3,
)
def refresh_stale_days(queued: bool = False) -> int:
    """Recompute the stale days no other worker holds; the number of marks cleared.

    Idempotent and safe to overlap (``analytics.facts.refresh_stale``). ``queued``: this
    is the run a change queued (``facts.schedule_refresh``): it frees the queue's key
    before reading the marks, so the next change queues the next run. Beat's runs and
    retries of other runs leave the key to the run that holds it.
    """
    if queued:
        from django.core.cache import cache

        cache.delete(facts.REFRESH_QUEUED_KEY)
    return facts.refresh_stale()


@shared_task(name="analytics.wall_push", ignore_result=True)
def wall_push(group: str) -> None:
    """Read one wall group's figures and push them to its walls (``analytics.wall``)."""
    from analytics import wall

    wall.push_figures(group)


@shared_task(name="analytics.wall_window_ended", ignore_result=True)
def wall_window_ended(group: str) -> None:
    """A wall group's throttle window ended: push once more if it changed meanwhile."""
    from analytics import wall

    wall.window_ended(group)
