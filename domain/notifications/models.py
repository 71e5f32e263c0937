"""Tortoise models of the notifications context: the outbox, interaction windows, subscribe credits."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from domain.notifications.rules import EscalationState, OutboxStatus


class OutboxMessage(Model):
    id = fields.IntField(primary_key=True)
    idempotency_key = fields.CharField(max_length=200, unique=True)
    recipient_openid = fields.CharField(max_length=64, db_index=True)
    category = fields.CharField(max_length=32, db_index=True)
    text = fields.TextField()
    template_key = fields.CharField(max_length=64, default="")
    template_data: fields.JSONField[dict[str, str]] = fields.JSONField(default=dict)
    template_url = fields.CharField(max_length=500, default="")
    status = fields.CharEnumField(OutboxStatus, max_length=32, default=OutboxStatus.PENDING, db_index=True)
    channel = fields.CharField(max_length=16, default="", description="channel used or that would be used")
    excluded_channels: fields.JSONField[list[str]] = fields.JSONField(
        default=list, description="channels that refused this message"
    )
    attempts = fields.IntField(default=0)
    parts_sent = fields.IntField(default=0, description="custom-message chunks already delivered")
    next_attempt_at = fields.DatetimeField(db_index=True)
    claimed_until = fields.DatetimeField(null=True, description="lease of the dispatcher sending it")
    last_errcode = fields.IntField(null=True)
    last_errmsg = fields.CharField(max_length=300, default="")
    msgid = fields.CharField(max_length=32, default="", db_index=True, description="template msgid")
    receipt_status = fields.CharField(max_length=64, default="", description="TEMPLATESENDJOBFINISH status")
    receipt_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    first_failure_at = fields.DatetimeField(null=True, description="start of the retry horizon")
    claim_owner = fields.CharField(max_length=64, default="", description="dispatcher holding the lease")
    parts_attempted = fields.IntField(
        default=0, description="custom-message chunks handed to the platform (> parts_sent: unknown fate)"
    )
    unconfirmed = fields.BooleanField(
        default=False, description="a custom chunk may or may not have arrived: never resent"
    )
    alerted_at = fields.DatetimeField(null=True, description="when the admins were told it failed")

    class Meta:
        table = "notification_outbox"


class InteractionWindow(Model):
    """One row per user who wrote to the official account: the customer-service message window."""

    openid = fields.CharField(max_length=64, primary_key=True)
    last_interaction_at = fields.DatetimeField()
    custom_used = fields.IntField(default=0)

    class Meta:
        table = "notification_window"


class SubscribeCredit(Model):
    """Accepted subscribe authorisations left, per user, template and app (each allows one message)."""

    id = fields.IntField(primary_key=True)
    openid = fields.CharField(max_length=64)
    template_key = fields.CharField(max_length=64)
    app = fields.CharField(max_length=8, description="wxa or mp")
    remaining = fields.IntField(default=0)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "notification_subscribe_credit"
        unique_together = (("openid", "template_key", "app"),)


class DutyRosterEntry(Model):
    """One person on duty for a department (``default``: whoever covers a department without its own)."""

    id = fields.IntField(primary_key=True)
    department = fields.CharField(max_length=32, db_index=True)
    name = fields.CharField(max_length=64)
    openid = fields.CharField(max_length=64, default="", description="official-account openid")
    phone = fields.CharField(max_length=20, default="", description="mobile number for the SMS fallback")
    updated_by = fields.CharField(max_length=64, default="")
    updated_at = fields.DatetimeField()

    class Meta:
        table = "notification_duty_roster"


class Escalation(Model):
    """An escalation sent to a roster, watched until one message is delivered or its deadline passes."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=200, unique=True)
    department = fields.CharField(max_length=32)
    state = fields.CharEnumField(
        EscalationState, max_length=16, default=EscalationState.PENDING, db_index=True
    )
    outbox_ids: fields.JSONField[list[int]] = fields.JSONField(default=list)
    phones: fields.JSONField[list[str]] = fields.JSONField(default=list)
    sms_params: fields.JSONField[dict[str, str]] = fields.JSONField(default=dict)
    sms_sent = fields.IntField(default=0)
    note = fields.CharField(max_length=300, default="")
    created_at = fields.DatetimeField()
    settled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notification_escalation"


class NoticeThrottle(Model):
    """Per recipient, site and rule: when the last alarm notice went out and how many were held back."""

    id = fields.IntField(primary_key=True)
    recipient_openid = fields.CharField(max_length=64)
    site_code = fields.CharField(max_length=24)
    rule = fields.CharField(max_length=48)
    last_sent_at = fields.DatetimeField(null=True)
    last_major = fields.BooleanField(default=False)
    suppressed = fields.IntField(default=0, db_index=True)

    class Meta:
        table = "notification_throttle"
        unique_together = (("recipient_openid", "site_code", "rule"),)
