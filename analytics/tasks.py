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
