"""Sequence numbers on audit records, and a signed head and anchor (issue 12).

Existing records are numbered 1, 2, 3, ... in id order (the order they were
chained in). The head and anchor are signed as they are found: run
``manage.py audit_verify`` before migrating, since a log already cut short
is signed as it stands. A log that was already short at its newest end still
shows it, because the head keeps the digest it had.
"""

from django.db import migrations, models

ZERO = "0" * 64


def number_and_sign(apps, schema_editor):
    from audit.services import anchor_signature, head_signature

    AuditRecord = apps.get_model("audit", "AuditRecord")
    ChainHead = apps.get_model("audit", "ChainHead")
    connection = schema_editor.connection
    records = AuditRecord.objects.order_by("id")
    if records.exists():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("ALTER TABLE audit_auditrecord DISABLE TRIGGER audit_append_only")
                cursor.execute(
                    "UPDATE audit_auditrecord SET sequence = numbered.n FROM "
                    "(SELECT id, row_number() OVER (ORDER BY id) AS n FROM audit_auditrecord)"
                    " AS numbered WHERE audit_auditrecord.id = numbered.id"
                )
                cursor.execute("ALTER TABLE audit_auditrecord ENABLE TRIGGER audit_append_only")
            else:
                cursor.execute(
                    "UPDATE audit_auditrecord SET sequence = (SELECT COUNT(*) FROM"
                    " audit_auditrecord AS earlier WHERE earlier.id <= audit_auditrecord.id)"
                )
    last = records.last()
    head = ChainHead.objects.filter(pk=1).first()
    if head is None:
        head = ChainHead(pk=1, digest=last.digest if last else ZERO)
    head.sequence = records.count()
    head.last_id = last.pk if last else 0
    head.first_sequence = 1
    head.purge_sequence = 0
    if head.anchor != ZERO:  # purged before: the newest purge set the anchor
        purge = records.filter(action="audit.purge").last()
        head.purge_sequence = records.filter(id__lte=purge.pk).count() if purge else 0
    head.signature = head_signature(head.digest, head.sequence, head.last_id)
    head.anchor_signature = anchor_signature(head.anchor, head.first_sequence, head.purge_sequence)
    head.save()


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_purge_past_retention")]

    operations = [
        migrations.AddField(
            model_name="auditrecord",
            name="sequence",
            field=models.PositiveBigIntegerField(editable=False, null=True, verbose_name="sequence"),
        ),
        migrations.AddField(
            model_name="chainhead",
            name="sequence",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="chainhead",
            name="last_id",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="chainhead",
            name="signature",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="chainhead",
            name="first_sequence",
            field=models.PositiveBigIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="chainhead",
            name="purge_sequence",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="chainhead",
            name="anchor_signature",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(number_and_sign, migrations.RunPython.noop, elidable=False),
    ]
