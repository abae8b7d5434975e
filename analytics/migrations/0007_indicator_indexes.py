"""Indexes the indicators and the wall read at a million cases (issue 17).

- ``case_response_seconds``, ``case_handling_seconds`` (PostgreSQL): the
  per-case times (``analytics.selectors.RESPONSE``, ``HANDLING``: the very
  expressions of ``analytics.functions.Seconds``) in order, carrying the
  columns a scope filters on, so an exact percentile of the district or a
  town is read at its rank by an index-only scan (``functions.ranked_percentiles``)
  instead of sorting every case of the year. SQLite has no INCLUDE; its
  tables are demo-sized.
- ``case_closed_at``: the wall's "closed today".
- ``caseevent_escalations``: the wall's latest escalations and overdue marks,
  newest first, without reading every event.

Built ``CONCURRENTLY`` on PostgreSQL: cases keep being written meanwhile (at a
million cases each index takes tens of seconds).
"""

from django.db import migrations

TIMES = {
    "case_response_seconds": ("first_accepted_at", "dispatched_at"),
    "case_handling_seconds": ("completed_at", "first_accepted_at"),
}
PLAIN = {
    "case_closed_at": "CREATE INDEX {concurrently}IF NOT EXISTS case_closed_at ON cases_case (closed_at)",
    "caseevent_escalations": (
        "CREATE INDEX {concurrently}IF NOT EXISTS caseevent_escalations ON cases_caseevent (created_at, id)"
        " WHERE kind IN ('escalated', 'overdue')"
    ),
}


def _concurrently(schema_editor) -> str:
    """PostgreSQL builds the index without holding off writes to the cases (hence a
    non-atomic migration); SQLite has no such option."""
    return "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""


def create(apps, schema_editor):
    concurrently = _concurrently(schema_editor)
    for sql in PLAIN.values():
        schema_editor.execute(sql.format(concurrently=concurrently))
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (end, start) in TIMES.items():
        schema_editor.execute(
            f"CREATE INDEX {concurrently}IF NOT EXISTS {name} ON cases_case "
            f'((EXTRACT(EPOCH FROM ("{end}" - "{start}"))::double precision)) '
            f'INCLUDE (created_at, state, community_id, "{end}", "{start}")'
        )


def drop(apps, schema_editor):
    names = list(PLAIN) + (list(TIMES) if schema_editor.connection.vendor == "postgresql" else [])
    for name in names:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0006_stale_marks_appended"),
        ("cases", "0006_photo_upload"),
    ]

    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction
    operations = [migrations.RunPython(create, drop, elidable=False)]
