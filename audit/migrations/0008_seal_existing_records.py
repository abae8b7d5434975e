"""Seal every existing record, and let PostgreSQL's trigger admit the sequencer's update.

Existing records are all chained: each gets its writer's seal (``entry_mac``)
over its content as it stands, with the first half of its digest as its token
(so no two seals are alike, as ``0009`` requires). Their digests are kept, so
a record changed before this migration is still caught by its digest.

The trigger keeps refusing every UPDATE and DELETE but two: ``audit_purge``'s
delete of records past retention (migration 0004), and the sequencer giving a
pending record its sequence number and digests while its content and seal stay
exactly as written.
"""

from django.db import migrations

SEAL = "UPDATE audit_auditrecord SET token = %s, entry_mac = %s WHERE id = %s"

TRIGGER = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('jinshao.audit_purge', true) = 'on'
       AND OLD.created_at < now() - interval '180 days' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE'
       AND OLD.sequence IS NULL AND OLD.digest IS NULL
       AND NEW.sequence IS NOT NULL AND NEW.digest IS NOT NULL
       AND (NEW.id, NEW.created_at, NEW.actor_id, NEW.actor_name, NEW.ip, NEW.action,
            NEW.object_type, NEW.object_id, NEW.object_repr, NEW.success, NEW.details,
            NEW.token, NEW.entry_mac)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.created_at, OLD.actor_id, OLD.actor_name, OLD.ip, OLD.action,
            OLD.object_type, OLD.object_id, OLD.object_repr, OLD.success, OLD.details,
            OLD.token, OLD.entry_mac) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit records are append-only';
END;
$$ LANGUAGE plpgsql;
"""

PREVIOUS_TRIGGER = """
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


def seal(apps, schema_editor):
    from audit.services import entry_mac_of

    AuditRecord = apps.get_model("audit", "AuditRecord")
    connection = schema_editor.connection
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("ALTER TABLE audit_auditrecord DISABLE TRIGGER audit_append_only")
        batch = []
        for entry in AuditRecord.objects.order_by("id").iterator(chunk_size=2000):
            entry.token = (entry.digest or "")[:32]
            batch.append((entry.token, entry_mac_of(entry), entry.pk))
            if len(batch) == 2000:
                cursor.executemany(SEAL, batch)
                batch = []
        if batch:
            cursor.executemany(SEAL, batch)
        if postgres:
            cursor.execute("ALTER TABLE audit_auditrecord ENABLE TRIGGER audit_append_only")
            cursor.execute(TRIGGER)


def unseal(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_pending_records")]

    operations = [migrations.RunPython(seal, unseal, elidable=False)]
