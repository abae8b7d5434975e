"""Check the audit log's hash chain: ``manage.py audit_verify`` (exit status 1 if broken).

Checks every kept record (chained ones by the chain and their writer's seal,
pending ones by their seal), the signed head (the newest end) and the signed
anchor with the purge it names (the oldest end), and reports how many records
wait to be chained and for how long (a warning past
``JINSHAO_AUDIT_PENDING_MAX_SECONDS``: the sequencer is not running). On success it prints the
head's sequence number and digest: kept outside the database host (the daily
cron's mail, say), they show a later rollback to an earlier state, which the
database alone cannot (``--at-least`` checks one).
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditRecord, ChainHead
from audit.services import first_broken_link, head_summary, pending_status


class Command(BaseCommand):
    help = "Verify the audit log's hash chain, head and anchor; report the first fault."

    def add_arguments(self, parser):
        parser.add_argument(
            "--at-least",
            type=int,
            default=0,
            metavar="SEQUENCE",
            help="Also fail unless the log has reached this sequence number (from an earlier run).",
        )

    def handle(self, *args, **options):
        broken = first_broken_link()
        if broken is not None:
            record_id, why = broken
            where = f"at record {record_id}" if record_id else "at its ends"
            raise CommandError(f"Audit log broken {where}: {why}.")
        reached = ChainHead.objects.values_list("sequence", flat=True).first() or 0
        if reached < options["at_least"]:
            raise CommandError(
                f"Audit log rolled back: it reaches sequence {reached}, "
                f"an earlier check saw {options['at_least']}."
            )
        pending, age = pending_status()
        self.stdout.write(
            f"Audit log intact: {AuditRecord.objects.count()} records verified"
            f" ({pending} pending, oldest {age:.1f} s); {head_summary()}."
        )
        limit = settings.JINSHAO_AUDIT_PENDING_MAX_SECONDS
        if pending and 0 < limit < age:
            self.stderr.write(
                f"Warning: a record has waited {age:.1f} s to be chained (bound {limit:g} s):"
                " is the sequencer running (manage.py audit_sequence)?"
            )
