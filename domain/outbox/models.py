"""The event-outbox table: one row per domain event, until the relay has published it."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class OutboxEvent(Model):
    """A domain event waiting for (or done with) the relay. ``id`` is the publication order."""

    id = fields.BigIntField(primary_key=True)
    event_id = fields.CharField(max_length=120, unique=True, description="the consumers' dedup key")
    name = fields.CharField(max_length=64, description="e.g. ComplaintUpheld: the stream is events.<name>")
    aggregate = fields.CharField(
        max_length=120, default="", description="what changed, e.g. complaint:TS2026..., ordered per value"
    )
    payload = fields.TextField(description="the event's JSON, exactly as it is published")
    created_at = fields.DatetimeField()
    published_at = fields.DatetimeField(null=True, db_index=True, description="null until relayed")

    class Meta:
        table = "event_outbox"
