"""The duty roster (department -> people on duty) and watched escalations."""

import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from domain.notifications.rules import EscalationState


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_delivery_outbox_retry_claims")]

    operations = [
        ops.CreateModel(
            name="DutyRosterEntry",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("department", fields.CharField(db_index=True, max_length=32)),
                ("name", fields.CharField(max_length=64)),
                (
                    "openid",
                    fields.CharField(default="", description="official-account openid", max_length=64),
                ),
                (
                    "phone",
                    fields.CharField(
                        default="", description="mobile number for the SMS fallback", max_length=20
                    ),
                ),
                ("updated_by", fields.CharField(default="", max_length=64)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "notification_duty_roster", "app": "notifications", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Escalation",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("key", fields.CharField(unique=True, max_length=200)),
                ("department", fields.CharField(max_length=32)),
                (
                    "state",
                    fields.CharEnumField(
                        default=EscalationState.PENDING,
                        db_index=True,
                        enum_type=EscalationState,
                        max_length=16,
                    ),
                ),
                (
                    "outbox_ids",
                    fields.JSONField(
                        default=list, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                (
                    "phones",
                    fields.JSONField(
                        default=list, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                (
                    "sms_params",
                    fields.JSONField(
                        default=dict, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                ("sms_sent", fields.IntField(default=0)),
                ("note", fields.CharField(default="", max_length=300)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("settled_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={"table": "notification_escalation", "app": "notifications", "pk_attr": "id"},
            bases=["Model"],
        ),
    ]
