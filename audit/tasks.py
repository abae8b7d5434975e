"""The audit log's sequencer as a task (Celery beat, on commit, or core.scheduler in-process)."""

from celery import shared_task

from audit import services


@shared_task(name="audit.sequence", ignore_result=True)
def sequence_audit() -> int:
    """Chain the pending audit records (``audit.services.sequence_pending``); how many.

    Several at once are safe: the one holding the head's lock chains, the
    others return 0 at once. Raises ``ChainBroken`` when the head does not verify.
    """
    return services.sequence_pending()
