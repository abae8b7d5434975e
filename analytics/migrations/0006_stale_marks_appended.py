"""Stale-day marks become append-only rows (one per marking transaction).

One row per day, upserted by every write of that day, made every writer of the
district queue on that row's lock until it committed. The new table has its own
id, the day indexed and the token unique. Pending marks are carried over, so no
day that waits for its rebuild is forgotten.
"""

import uuid

from django.db import migrations, models


def carry_marks(apps, schema_editor):
    old = apps.get_model("analytics", "StaleDay")
    new = apps.get_model("analytics", "StaleDayMark")
    new.objects.bulk_create(
        [new(day=day, token=token) for day, token in old.objects.values_list("day", "token")]
    )


def carry_back(apps, schema_editor):
    old = apps.get_model("analytics", "StaleDay")
    new = apps.get_model("analytics", "StaleDayMark")
    days = {}
    for day, token in new.objects.values_list("day", "token"):
        days[day] = token
    old.objects.bulk_create([old(day=day, token=token) for day, token in days.items()])


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0005_stale_day_token_exact_percentiles"),
    ]

    operations = [
        migrations.CreateModel(
            name="StaleDayMark",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(db_index=True)),
                ("token", models.UUIDField(default=uuid.uuid4, unique=True)),
            ],
            options={"verbose_name": "stale day", "verbose_name_plural": "stale days"},
        ),
        migrations.RunPython(carry_marks, carry_back),
        migrations.DeleteModel(name="StaleDay"),
        migrations.RenameModel(old_name="StaleDayMark", new_name="StaleDay"),
    ]
