"""Every day that already has cases starts stale: the first read (or analytics_refresh) fills it."""

from django.db import migrations


def mark(apps, schema_editor):
    from django.conf import settings
    from zoneinfo import ZoneInfo

    from django.db.models.functions import TruncDate

    Case = apps.get_model("cases", "Case")
    StaleDay = apps.get_model("analytics", "StaleDay")
    tz = ZoneInfo(settings.TIME_ZONE)
    days = Case.objects.annotate(d=TruncDate("created_at", tzinfo=tz)).values_list("d", flat=True)
    StaleDay.objects.bulk_create(
        [StaleDay(day=d) for d in set(days)], ignore_conflicts=True, batch_size=1000
    )


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial"), ("cases", "0004_alter_caseevent_kind_alter_invitation_state")]

    operations = [migrations.RunPython(mark, migrations.RunPython.noop)]
