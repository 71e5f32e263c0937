"""Helper alarms: the device life cycle (first and last report per device), the count of clean
camera inferences, and the alarm's situation in at most 20 characters for template messages."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("alerts", "0002_partition_minute_aggregates")]

    operations = [
        ops.AddField(
            model_name="Alarm",
            name="clean_count",
            field=fields.IntField(default=0, description="clean camera inferences since the last report"),
        ),
        ops.AddField(
            model_name="Alarm",
            name="brief",
            field=fields.CharField(default="", description="the situation in <= 20 characters", max_length=20),
        ),
        ops.CreateModel(
            name="DeviceHealth",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("device_code", fields.CharField(unique=True, max_length=40)),
                ("site_code", fields.CharField(db_index=True, max_length=24)),
                ("first_seen_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("last_seen_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "alert_device_health",
                "app": "alerts",
                "pk_attr": "id",
                "table_description": (
                    "When a device first and last reported (minute resolution, written with the minute"
                    " aggregates)."
                ),
            },
        ),
    ]
