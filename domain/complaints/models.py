"""Tortoise models of the complaints context. Other contexts are referenced by code, never by key."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from domain.complaints.rules import Action, Actor, State


class Complaint(Model):
    id = fields.IntField(primary_key=True)
    ticket_no = fields.CharField(max_length=16, unique=True)
    state = fields.CharEnumField(State, max_length=16, db_index=True, default=State.SUBMITTED)
    nuisance_type = fields.CharField(max_length=32, db_index=True)
    category = fields.CharField(max_length=32)
    description = fields.TextField(default="")
    address = fields.CharField(max_length=200, default="")
    lat = fields.FloatField(null=True, description="WGS-84")
    lng = fields.FloatField(null=True, description="WGS-84")
    occurred_at = fields.DatetimeField(null=True, description="when the nuisance happened (normalised)")
    channel = fields.CharField(
        max_length=16, default="miniprogram", description="wechat, miniprogram or open311"
    )
    reporter_openid = fields.CharField(max_length=64, default="", db_index=True, description="private")
    reporter_phone = fields.CharField(max_length=32, default="", description="private")
    reporter_name = fields.CharField(max_length=32, default="", description="private")
    site_code = fields.CharField(max_length=24, default="", db_index=True)
    project_code = fields.CharField(max_length=16, default="", db_index=True)
    contractor_uscc = fields.CharField(max_length=18, default="")
    town = fields.CharField(max_length=16, default="", db_index=True)
    department = fields.CharField(max_length=32, default="", db_index=True)
    assignee_id = fields.CharField(max_length=32, default="", description="handling staff account id")
    photos: list[str] = fields.JSONField(default=list, description="media references")
    evidence: dict[str, Any] = fields.JSONField(
        default=dict, description="night-work permit and monitor readings"
    )
    merged_into_id = fields.IntField(null=True)
    merge_candidates: list[int] = fields.JSONField(default=list, description="ids of likely duplicates")
    upheld = fields.BooleanField(default=False)
    rating = fields.CharField(max_length=24, default="")
    last_reply = fields.TextField(default="")
    reply_count = fields.IntField(default=0)
    sla_started_at = fields.DatetimeField()
    due_at = fields.DatetimeField(db_index=True)
    answered_at = fields.DatetimeField(null=True)
    reminders_sent: list[str] = fields.JSONField(default=list, description="SLA reminder keys already sent")
    closed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "complaint"
        indexes = (("site_code", "nuisance_type", "created_at"),)


class ComplaintEvent(Model):
    """The timeline: every transition and note, with who, when and why."""

    id = fields.IntField(primary_key=True)
    complaint: fields.ForeignKeyRelation[Complaint] = fields.ForeignKeyField(
        "complaints.Complaint", related_name="events", on_delete=fields.CASCADE
    )
    action = fields.CharEnumField(Action, max_length=24)
    from_state = fields.CharEnumField(State, max_length=16)
    to_state = fields.CharEnumField(State, max_length=16)
    actor = fields.CharEnumField(Actor, max_length=8)
    actor_id = fields.CharField(
        max_length=64, default="", description="account id or system (never an openid)"
    )
    note = fields.TextField(default="")
    at = fields.DatetimeField()

    class Meta:
        table = "complaint_event"
        ordering = ("id",)


class TicketCounter(Model):
    """The last sequence number used per Asia/Shanghai day, bumped atomically by an upsert."""

    day = fields.CharField(max_length=8, primary_key=True)
    last_seq = fields.IntField(default=0)

    class Meta:
        table = "complaint_ticket_counter"
