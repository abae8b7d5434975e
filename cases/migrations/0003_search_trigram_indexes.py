"""Trigram indexes for the case list's text search (number, title, address contains).

PostgreSQL only: Django's ``icontains`` there is ``UPPER(col::text) LIKE UPPER(%s)``,
which a GIN ``gin_trgm_ops`` index on the same expression serves (search terms of
three characters or more). SQLite, the embedded default, has no such index
type and scans; its tables are demo-sized.
"""

from django.db import migrations

COLUMNS = ("number", "title", "address")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS case_{column}_trgm ON cases_case "
            f'USING gin ((UPPER(("{column}")::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS case_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_source_index")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
