"""The density map's index (issue 17): every located case's coordinates by day of raising.

PostgreSQL: ``created_at`` carrying what the density reads and filters on
(state, area, category, coordinates), so a year's cells are counted by one
index-only walk instead of reading every case row. SQLite: nothing (no INCLUDE).
"""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS case_located ON cases_case (created_at) "
        "INCLUDE (state, community_id, category_id, longitude, latitude)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS case_located")


class Migration(migrations.Migration):
    dependencies = [("analytics", "0007_indicator_indexes")]

    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction
    operations = [migrations.RunPython(create, drop, elidable=False)]
