"""Tortoise models of the exchange context: partners, audited batches, upserted feed records and the
webhook outbox. Nothing here points into another context's tables."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class Partner(Model):
    """A partner department's API key. The secret signs requests (HMAC), so it is kept, not hashed."""

    id = fields.IntField(primary_key=True)
    key_id = fields.CharField(max_length=32, unique=True)
    department = fields.CharField(max_length=32, db_index=True)
    secret = fields.CharField(max_length=64, description="HMAC secret, shown once when issued")
    active = fields.BooleanField(default=True)
    created_by = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField()

    class Meta:
        table = "exchange_partner"


class FeedBatch(Model):
    """The audit of one delivery: who, when, through which channel, how many accepted or rejected."""

    id = fields.IntField(primary_key=True)
    feed = fields.CharField(max_length=40, db_index=True)
    department = fields.CharField(max_length=32)
    batch_ref = fields.CharField(max_length=64, description="the sender's batch id (idempotency)")
    actor = fields.CharField(max_length=64, description="key id or staff account")
    channel = fields.CharField(max_length=8, description="api, csv or xlsx")
    body_sha256 = fields.CharField(max_length=64)
    received_at = fields.DatetimeField()
    total = fields.IntField(default=0)
    created = fields.IntField(default=0)
    updated = fields.IntField(default=0)
    unchanged = fields.IntField(default=0)
    rejected = fields.IntField(default=0)
    credit_records = fields.IntField(default=0)
    rejections: Any = fields.JSONField(default=list, description="[{row, key, problems}]")
    completed_at = fields.DatetimeField(null=True, description="null while the rows are being applied")

    class Meta:
        table = "exchange_feed_batch"
        unique_together = (("department", "feed", "batch_ref"),)


class FeedRecord(Model):
    """The current version of one record of a feed, by its key fields."""

    id = fields.IntField(primary_key=True)
    feed = fields.CharField(max_length=40)
    record_key = fields.CharField(max_length=200)
    data: Any = fields.JSONField()
    content_hash = fields.CharField(max_length=64)
    first_batch_id = fields.IntField()
    last_batch_id = fields.IntField()
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "exchange_feed_record"
        unique_together = (("feed", "record_key"),)


class WebhookSubscription(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64)
    url = fields.CharField(max_length=300)
    secret = fields.CharField(max_length=64, description="signs every delivery")
    event_types: Any = fields.JSONField(default=list, description="empty: every outbound event")
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "exchange_webhook_subscription"


class WebhookDelivery(Model):
    """The outbox of the city feed: one row per (subscription, event), retried with backoff."""

    id = fields.IntField(primary_key=True)
    subscription_id = fields.IntField(db_index=True)
    event_id = fields.CharField(max_length=80)
    event_type = fields.CharField(max_length=48)
    body = fields.TextField(description="the exact JSON that is signed and sent")
    status = fields.CharField(max_length=12, default="pending", db_index=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    last_error = fields.CharField(max_length=300, default="")
    delivered_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "exchange_webhook_delivery"
        unique_together = (("subscription_id", "event_id"),)
