"""Run the periodic jobs (deadline sweep, outbox, account hygiene) without Celery beat."""

import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from core import scheduler


class Command(BaseCommand):
    help = _("Run the deadline sweep, the outbox and the other periodic jobs: once, or forever.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--forever",
            action="store_true",
            help=_("Keep running each job at its interval (CELERY_BEAT_SCHEDULE)."),
        )

    def handle(self, *args, **options):
        if options["forever"]:
            scheduler.run_forever(threading.Event())
            return
        jobs = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
        for name in jobs:
            scheduler.run_job(name)
        self.stdout.write(_("Ran: %(jobs)s") % {"jobs": ", ".join(jobs)})
