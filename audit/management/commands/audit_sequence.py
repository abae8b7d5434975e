"""Chain the pending audit records now: ``manage.py audit_sequence`` (the sequencer, by hand).

Beat (or the in-process scheduler) runs it every few seconds anyway; this is for
an operator who stopped the workers, or for a cron on a host without them.
"""

from django.core.management.base import BaseCommand, CommandError

from audit.services import ChainBroken, pending_status, sequence_pending


class Command(BaseCommand):
    help = "Chain the pending audit records (waits for a sequencer already running)."

    def handle(self, *args, **options):
        try:
            chained = sequence_pending(wait=True)
        except ChainBroken as exc:
            raise CommandError(str(exc)) from exc
        pending, age = pending_status()
        self.stdout.write(
            f"Chained {chained} audit records; {pending} pending (oldest {age:.1f} s)."
        )
