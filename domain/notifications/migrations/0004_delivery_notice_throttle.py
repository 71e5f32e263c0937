"""Per-recipient alarm notice throttle (one message per site and rule per window, with a count)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("notifications", "0003_delivery_duty_roster")]

    operations = [
        ops.CreateModel(
            name="NoticeThrottle",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("recipient_openid", fields.CharField(max_length=64)),
                ("site_code", fields.CharField(max_length=24)),
                ("rule", fields.CharField(max_length=48)),
                ("last_sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("last_major", fields.BooleanField(default=False)),
                ("suppressed", fields.IntField(default=0, db_index=True)),
            ],
            options={
                "table": "notification_throttle",
                "app": "notifications",
                "pk_attr": "id",
                "unique_together": (("recipient_openid", "site_code", "rule"),),
            },
            bases=["Model"],
        ),
    ]
