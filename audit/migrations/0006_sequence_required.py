"""Every audit record has its sequence number (numbered by 0005)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_sequence_and_signed_ends")]

    operations = [
        migrations.AlterField(
            model_name="auditrecord",
            name="sequence",
            field=models.PositiveBigIntegerField(editable=False, unique=True, verbose_name="sequence"),
        ),
    ]
