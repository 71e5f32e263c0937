"""Tortoise models of the alerts context.

One active alarm per (source, alarm_type) is enforced by ``active_key``: it holds
``"<source>|<alarm_type>"`` while the alarm is open and NULL once it is cleared or resolved. A
unique column admits many NULLs on both PostgreSQL and SQLite, so this is a portable partial unique
index and two readings a few milliseconds apart can never create two alarms.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from domain.alerts.rules import AlarmState, Severity


class Alarm(Model):
    id = fields.IntField(primary_key=True)
    source = fields.CharField(max_length=64, description="device code, camera code or site code")
    alarm_type = fields.CharField(max_length=48)
    active_key = fields.CharField(max_length=120, unique=True, null=True)
    state = fields.CharEnumField(AlarmState, max_length=16, default=AlarmState.RAISED)
    severity = fields.CharEnumField(Severity, max_length=16)
    site_code = fields.CharField(max_length=24, db_index=True)
    project_code = fields.CharField(max_length=16, default="", db_index=True)
    value = fields.FloatField(null=True)
    limit = fields.FloatField(null=True)
    peak_value = fields.FloatField(null=True)
    message = fields.CharField(max_length=300, default="")
    brief = fields.CharField(max_length=20, default="", description="the situation in <= 20 characters")
    evidence_ref = fields.CharField(max_length=100, null=True)
    update_count = fields.IntField(default=0)
    clean_count = fields.IntField(default=0, description="clean camera inferences since the last report")
    raised_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    acknowledged_at = fields.DatetimeField(null=True)
    acknowledged_by = fields.CharField(max_length=64, default="")
    closed_at = fields.DatetimeField(null=True)
    resolution_note = fields.TextField(default="")
    resolution_photo_ref = fields.CharField(max_length=100, default="")
    escalated_at = fields.DatetimeField(null=True)
    notified_at = fields.DatetimeField(null=True)
    notified_update_count = fields.IntField(default=0)
    confirmed_violation_by = fields.CharField(max_length=64, default="")

    class Meta:
        table = "alert_alarm"
        indexes = (("site_code", "raised_at"), ("state", "severity", "raised_at"))


class AlarmEvent(Model):
    """The timeline: every transition and update, append-only."""

    id = fields.IntField(primary_key=True)
    alarm_id = fields.IntField(db_index=True)
    kind = fields.CharField(max_length=24)
    at = fields.DatetimeField()
    actor = fields.CharField(max_length=64, default="")
    value = fields.FloatField(null=True)
    note = fields.TextField(default="")
    photo_ref = fields.CharField(max_length=100, default="")

    class Meta:
        table = "alert_event"


class SiteBinding(Model):
    """A site manager (by openid) bound to a site: they receive its alarms."""

    id = fields.IntField(primary_key=True)
    site_code = fields.CharField(max_length=24, db_index=True)
    project_code = fields.CharField(max_length=16, default="")
    openid = fields.CharField(max_length=64, db_index=True)
    bound_at = fields.DatetimeField()

    class Meta:
        table = "alert_site_binding"
        unique_together = (("site_code", "openid"),)


class BindingCode(Model):
    """A one-time code issued by staff or the enterprise admin, only its hash is stored."""

    id = fields.IntField(primary_key=True)
    code_hash = fields.CharField(max_length=64, unique=True)
    project_code = fields.CharField(max_length=16)
    site_code = fields.CharField(max_length=24)
    issued_by = fields.CharField(max_length=64)
    issued_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    used_by = fields.CharField(max_length=64, default="")

    class Meta:
        table = "alert_binding_code"


class MinuteAggregate(Model):
    """Per device, metric and minute. A minute may have several partial rows (one per bridge flush,
    or per bridge under shared subscriptions) and queries add them up. ``valid_*`` counts only flag-N
    readings, which are the only ones compliance averages use."""

    id = fields.BigIntField(primary_key=True)
    site_code = fields.CharField(max_length=24)
    device_code = fields.CharField(max_length=40)
    metric = fields.CharField(max_length=24)
    minute = fields.DatetimeField()
    count = fields.IntField()
    total = fields.FloatField()
    minimum = fields.FloatField()
    maximum = fields.FloatField()
    valid_count = fields.IntField()
    valid_total = fields.FloatField()

    class Meta:
        table = "alert_minute_aggregate"
        indexes = (("device_code", "minute"), ("site_code", "minute"))


class DeviceHealth(Model):
    """When a device first and last reported (minute resolution, written with the minute aggregates).
    No row means the device never reported: it is not commissioned and is never alarmed as offline.
    The offline checker reads it so a restarted bridge still knows which devices had reported."""

    id = fields.IntField(primary_key=True)
    device_code = fields.CharField(max_length=40, unique=True)
    site_code = fields.CharField(max_length=24, db_index=True)
    first_seen_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()

    class Meta:
        table = "alert_device_health"
