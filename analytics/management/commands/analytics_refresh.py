"""Rebuild the daily figures the indicators add up: ``manage.py analytics_refresh``."""

import time

from django.core.management.base import BaseCommand

from analytics.facts import refresh_all


class Command(BaseCommand):
    help = "Recompute every day's analytics figures (after a bulk load or an upgrade)."

    def handle(self, *args, **options):
        started = time.perf_counter()
        days = refresh_all()
        self.stdout.write(f"Refreshed {days} days in {time.perf_counter() - started:.1f} s.")
