"""The density map's daily cells (issue 17): ``CellDay``, and every day with located cases stale.

An upgraded database has fresh days without their cells: the district's density
would add up nothing for them. Marking those days stale (as 0002 did for the
first daily figures) keeps every reader exact from the moment this migration
commits: a stale day is computed from its cases (``selectors.summed``) until the
rebuild (``facts.refresh_stale``, scheduled by beat; ``manage.py analytics_refresh``
does all days at once) writes its rows and clears the mark. Only documenting
``analytics_refresh`` would leave the density wrong, silently, until someone ran it.
"""

import uuid
from zoneinfo import ZoneInfo

import django.db.models.deletion
from django.db import migrations, models


def mark(apps, schema_editor):
    from django.conf import settings
    from django.db.models.functions import TruncDate

    Case = apps.get_model("cases", "Case")
    StaleDay = apps.get_model("analytics", "StaleDay")
    tz = ZoneInfo(settings.TIME_ZONE)
    days = (
        Case.objects.filter(longitude__isnull=False)
        .exclude(state="draft")
        .annotate(d=TruncDate("created_at", tzinfo=tz))
        .values_list("d", flat=True)
        .distinct()
        .order_by()
    )
    StaleDay.objects.bulk_create(
        [StaleDay(day=d, token=uuid.uuid4()) for d in sorted(set(days))], batch_size=1000
    )


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0010_month_roll_ups'),
        ('grids', '0002_area_boundary_population'),
        ('templates', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='CellDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('whole_month', models.BooleanField(default=False)),
                ('x', models.IntegerField()),
                ('y', models.IntegerField(null=True)),
                ('cases', models.PositiveIntegerField(default=0)),
                ('category', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='templates.category')),
                ('town', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='grids.area')),
            ],
            options={
                'verbose_name': 'located cases of a day',
                'verbose_name_plural': 'located cases of days',
                'indexes': [models.Index(fields=['day'], name='cell_day_day')],
            },
        ),
        migrations.RunPython(mark, migrations.RunPython.noop),
    ]
