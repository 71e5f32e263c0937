"""When each account last logged in with its password (shown to admins on the console's account page)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        ops.AddField(
            model_name="Account",
            name="last_login_at",
            field=fields.DatetimeField(null=True, description="latest password login (staff)"),
        ),
    ]
