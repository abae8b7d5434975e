"""Remove audit records older than a date (at least 180 days ago); the purge is audited."""

from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit.services import purge
from core.errors import DomainError


class Command(BaseCommand):
    help = "Purge audit records older than --before (YYYY-MM-DD, at least 180 days ago)."

    def add_arguments(self, parser):
        parser.add_argument("--before", required=True, help="YYYY-MM-DD")

    def handle(self, *args, **options):
        try:
            day = datetime.strptime(options["before"], "%Y-%m-%d").date()
        except ValueError as exc:
            raise CommandError("--before must be a date: YYYY-MM-DD.") from exc
        try:
            removed = purge(before=timezone.make_aware(datetime.combine(day, time.min)))
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Removed {removed} audit records older than {day}.")
