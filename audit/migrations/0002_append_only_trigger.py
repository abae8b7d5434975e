"""PostgreSQL refuses UPDATE and DELETE on the audit log, whoever connects through Django."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        """
        CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'audit records are append-only';
        END;
        $$ LANGUAGE plpgsql;
        """
    )
    schema_editor.execute(
        "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_auditrecord "
        "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP TRIGGER IF EXISTS audit_append_only ON audit_auditrecord")
    schema_editor.execute("DROP FUNCTION IF EXISTS audit_append_only()")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
