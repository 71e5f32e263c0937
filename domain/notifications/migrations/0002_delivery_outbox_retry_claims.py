"""Outbox retries over a horizon, owned claims, custom parts of unknown fate, failure alerts."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [
        ops.AddField(
            model_name="OutboxMessage",
            name="first_failure_at",
            field=fields.DatetimeField(null=True, description="start of the retry horizon"),
        ),
        ops.AddField(
            model_name="OutboxMessage",
            name="claim_owner",
            field=fields.CharField(default="", max_length=64, description="dispatcher holding the lease"),
        ),
        ops.AddField(
            model_name="OutboxMessage",
            name="parts_attempted",
            field=fields.IntField(
                default=0,
                description="custom-message chunks handed to the platform (> parts_sent: unknown fate)",
            ),
        ),
        ops.AddField(
            model_name="OutboxMessage",
            name="unconfirmed",
            field=fields.BooleanField(
                default=False, description="a custom chunk may or may not have arrived: never resent"
            ),
        ),
        ops.AddField(
            model_name="OutboxMessage",
            name="alerted_at",
            field=fields.DatetimeField(null=True, description="when the admins were told it failed"),
        ),
    ]
