"""Tortoise models of the emergency context."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from domain.emergency.rules import IncidentStatus, IncidentType


class Incident(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=24, unique=True, null=True)
    incident_type = fields.CharEnumField(IncidentType, max_length=24)
    status = fields.CharEnumField(
        IncidentStatus, max_length=16, default=IncidentStatus.REPORTED, db_index=True
    )
    grade = fields.IntField(default=1)
    title = fields.CharField(max_length=100)
    description = fields.TextField(default="")
    site_code = fields.CharField(max_length=24, default="", db_index=True)
    project_code = fields.CharField(max_length=16, default="")
    address = fields.CharField(max_length=200, default="")
    lat = fields.FloatField(null=True)
    lng = fields.FloatField(null=True)
    deaths = fields.IntField(default=0)
    serious_injuries = fields.IntField(default=0)
    minor_injuries = fields.IntField(default=0)
    trapped = fields.IntField(default=0)
    direct_loss_yuan = fields.BigIntField(default=0)
    source = fields.CharField(max_length=16, description="bot, staff or alarm")
    source_ref = fields.CharField(max_length=64, unique=True, null=True, description="idempotency of intake")
    reporter_openid = fields.CharField(max_length=64, default="", description="private")
    reported_levels: fields.JSONField[Any] = fields.JSONField(
        default=dict, description="level to reported time"
    )
    summary = fields.TextField(default="")
    occurred_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "incident"


class IncidentEvent(Model):
    """The timeline: every action, for the after-action report."""

    id = fields.IntField(primary_key=True)
    incident: fields.ForeignKeyRelation[Incident] = fields.ForeignKeyField(
        "emergency.Incident", related_name="events", on_delete=fields.CASCADE
    )
    at = fields.DatetimeField()
    actor = fields.CharField(max_length=64)
    action = fields.CharField(max_length=32)
    note = fields.TextField(default="")

    class Meta:
        table = "incident_event"
        ordering = ("at", "id")


class EmergencyResource(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=100)
    kind = fields.CharField(
        max_length=24, description="fire_station, hospital, traffic_police, rescue_team, equipment_yard"
    )
    department = fields.CharField(max_length=32, default="")
    capabilities: fields.JSONField[Any] = fields.JSONField(default=list)
    lat = fields.FloatField()
    lng = fields.FloatField()
    address = fields.CharField(max_length=200, default="")
    contact_name = fields.CharField(max_length=32, default="")
    contact_phone = fields.CharField(max_length=32, default="")
    contact_openid = fields.CharField(max_length=64, default="", description="private")
    active = fields.BooleanField(default=True)

    class Meta:
        table = "emergency_resource"


class Dispatch(Model):
    id = fields.IntField(primary_key=True)
    incident: fields.ForeignKeyRelation[Incident] = fields.ForeignKeyField(
        "emergency.Incident", related_name="dispatches", on_delete=fields.CASCADE
    )
    target = fields.CharField(max_length=48, description="resource code or department")
    target_kind = fields.CharField(max_length=16, description="resource or department")
    outbox_id = fields.IntField(null=True)
    dispatched_at = fields.DatetimeField()
    dispatched_by = fields.CharField(max_length=64)
    acknowledged_at = fields.DatetimeField(null=True)
    acknowledged_by = fields.CharField(max_length=64, default="")

    class Meta:
        table = "incident_dispatch"
        unique_together = (("incident", "target"),)
