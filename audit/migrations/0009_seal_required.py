"""Every record has its own seal, and the sequencer finds pending records by index."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0008_seal_existing_records")]

    operations = [
        migrations.AlterField(
            model_name="auditrecord",
            name="entry_mac",
            field=models.CharField(
                editable=False, max_length=64, unique=True, verbose_name="entry seal"
            ),
        ),
        migrations.AddIndex(
            model_name="auditrecord",
            index=models.Index(
                condition=models.Q(("sequence__isnull", True)),
                fields=["id"],
                name="audit_pending",
            ),
        ),
    ]
