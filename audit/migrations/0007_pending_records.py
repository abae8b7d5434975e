"""Records may wait unchained (issue 16): a writer's seal, no sequence or digest yet."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_sequence_required")]

    operations = [
        migrations.AddField(
            model_name="auditrecord",
            name="token",
            field=models.CharField(default="", editable=False, max_length=32, verbose_name="token"),
        ),
        migrations.AddField(
            model_name="auditrecord",
            name="entry_mac",
            field=models.CharField(
                default="", editable=False, max_length=64, verbose_name="entry seal"
            ),
        ),
        migrations.AlterField(
            model_name="auditrecord",
            name="sequence",
            field=models.PositiveBigIntegerField(
                blank=True, editable=False, null=True, unique=True, verbose_name="sequence"
            ),
        ),
        migrations.AlterField(
            model_name="auditrecord",
            name="previous_digest",
            field=models.CharField(
                blank=True, default="", editable=False, max_length=64, verbose_name="previous digest"
            ),
        ),
        migrations.AlterField(
            model_name="auditrecord",
            name="digest",
            field=models.CharField(
                blank=True, editable=False, max_length=64, null=True, unique=True,
                verbose_name="digest",
            ),
        ),
    ]
