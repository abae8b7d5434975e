"""Deactivate accounts not used for JINSHAO_INACTIVE_DAYS (run daily, e.g. from cron or beat)."""

from django.core.management.base import BaseCommand

from accounts.services import disable_inactive_accounts


class Command(BaseCommand):
    help = "Deactivate accounts unused for JINSHAO_INACTIVE_DAYS (default 90); audited."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args, **options):
        names = disable_inactive_accounts(days=options["days"])
        self.stdout.write(f"Deactivated {len(names)} accounts: {', '.join(names) or '—'}")
