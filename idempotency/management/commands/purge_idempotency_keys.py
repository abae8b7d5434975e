"""Delete kept answers of keyed requests past JINSHAO_IDEMPOTENCY_KEY_HOURS (beat runs it too)."""

from django.core.management.base import BaseCommand

from idempotency.services import purge_expired


class Command(BaseCommand):
    help = "Delete the answers kept for Idempotency-Key requests once they have expired."

    def handle(self, *args, **options):
        self.stdout.write(f"Deleted {purge_expired()} expired idempotency keys.")
