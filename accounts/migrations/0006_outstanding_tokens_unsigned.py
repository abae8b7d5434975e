"""Refresh tokens issued before: keep their claims, drop their signatures.

From now on the outstanding-token table keeps no usable token
(``accounts.api.tokens._unsigned``); this does the same to the rows already
there, so a database read or a backup holds no login. Nothing reads the
column back to verify a token (simplejwt checks by jti).
"""

from django.db import migrations


def drop_signatures(apps, schema_editor):
    OutstandingToken = apps.get_model("token_blacklist", "OutstandingToken")
    for row in OutstandingToken.objects.filter(token__regex=r"^[^.]*\.[^.]*\.").only("token"):
        row.token = row.token.rsplit(".", 1)[0]
        row.save(update_fields=["token"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_socket_ticket_login"),
        ("token_blacklist", "0013_alter_blacklistedtoken_options_and_more"),
    ]

    operations = [migrations.RunPython(drop_signatures, migrations.RunPython.noop)]
