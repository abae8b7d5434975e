"""Check the audit log's hash chain: ``manage.py audit_verify`` (exit status 1 if broken).

Checks every kept record, the signed head (the newest end) and the signed
anchor with the purge it names (the oldest end). On success it prints the
head's sequence number and digest: kept outside the database host (the daily
cron's mail, say), they show a later rollback to an earlier state, which the
database alone cannot (``--at-least`` checks one).
"""

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditRecord, ChainHead
from audit.services import first_broken_link, head_summary


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
        self.stdout.write(
            f"Audit log intact: {AuditRecord.objects.count()} records verified; {head_summary()}."
        )
