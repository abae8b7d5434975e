"""PostgreSQL lets ``audit_purge`` (and only it) delete records older than 180 days."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        """
        CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'DELETE'
               AND current_setting('jinshao.audit_purge', true) = 'on'
               AND OLD.created_at < now() - interval '180 days' THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION 'audit records are append-only';
        END;
        $$ LANGUAGE plpgsql;
        """
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_chainhead_anchor")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop, elidable=False)]
