"""Check the audit log's hash chain: ``manage.py audit_verify`` (exit status 1 if broken)."""

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditRecord
from audit.services import first_broken_link


class Command(BaseCommand):
    help = "Verify the audit log's hash chain and report the first broken link."

    def handle(self, *args, **options):
        broken = first_broken_link()
        if broken is not None:
            record_id, why = broken
            raise CommandError(f"Audit log broken at record {record_id}: {why}.")
        self.stdout.write(f"Audit log intact: {AuditRecord.objects.count()} records verified.")
