"""Tortoise models of the approvals context. Projects and enterprises are referenced by code and USCC,
never by foreign key into another context's tables."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from domain.approvals.rules import ApplicationStatus, TaskStatus


class ApplicationSequence(Model):
    """The last sequence number handed out per year: ``SP2026-0412`` is year 2026, number 412."""

    year = fields.IntField(primary_key=True)
    last_number = fields.IntField(default=0)

    class Meta:
        table = "approval_sequence"


class Application(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=16, unique=True)
    project_code = fields.CharField(max_length=16, db_index=True)
    enterprise_uscc = fields.CharField(max_length=18, db_index=True)
    stage = fields.CharField(max_length=40)
    status = fields.CharEnumField(
        ApplicationStatus, max_length=24, default=ApplicationStatus.DRAFT, db_index=True
    )
    fields_data: dict[str, Any] = fields.JSONField(default=dict, description="form fields")
    material_versions: dict[str, int] = fields.JSONField(
        default=dict, description="material key to the version submitted (what reviewers open)"
    )
    notify_openid = fields.CharField(max_length=64, default="", description="applicant openid if bound")
    round = fields.IntField(default=0, description="submission round, +1 per resubmission")
    first_submitted_at = fields.DatetimeField(null=True)
    clock_started_at = fields.DatetimeField(null=True, description="restarts on resubmission")
    due_at = fields.DatetimeField(null=True)
    paused_at = fields.DatetimeField(null=True)
    pause_reason = fields.CharField(max_length=200, default="")
    paused_days = fields.IntField(default=0, description="working days paused since the clock started")
    total_paused_days = fields.IntField(default=0)
    decided_at = fields.DatetimeField(null=True)
    rejection_reason = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "approval_application"


class ReviewTask(Model):
    id = fields.IntField(primary_key=True)
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "approvals.Application", related_name="tasks", on_delete=fields.CASCADE
    )
    application_id: int
    department = fields.CharField(max_length=32, db_index=True)
    is_lead = fields.BooleanField(default=False)
    status = fields.CharEnumField(TaskStatus, max_length=24, default=TaskStatus.IN_REVIEW, db_index=True)
    limit_days = fields.IntField()
    started_at = fields.DatetimeField()
    due_at = fields.DatetimeField()
    paused_days = fields.IntField(default=0)
    comment = fields.CharField(max_length=1000, default="")
    correction_materials: list[str] = fields.JSONField(default=list)
    decided_by = fields.CharField(max_length=64, default="")
    decided_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "approval_review_task"
        unique_together = (("application", "department"),)


class CorrectionNotice(Model):
    id = fields.IntField(primary_key=True)
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "approvals.Application", related_name="notices", on_delete=fields.CASCADE
    )
    round = fields.IntField()
    content: dict[str, Any] = fields.JSONField(default=dict)
    issued_at = fields.DatetimeField()
    answered_at = fields.DatetimeField(null=True)
    answer = fields.CharField(max_length=1000, default="")

    class Meta:
        table = "approval_correction_notice"
        unique_together = (("application", "round"),)


class Material(Model):
    """One version of one material of a project, stored by content hash in the media store."""

    id = fields.IntField(primary_key=True)
    project_code = fields.CharField(max_length=16)
    enterprise_uscc = fields.CharField(max_length=18)
    key = fields.CharField(max_length=48)
    version = fields.IntField()
    ref = fields.CharField(max_length=80, description="media store reference (sha256.ext)")
    kind = fields.CharField(max_length=8)
    size = fields.IntField()
    pages = fields.IntField(null=True)
    filename = fields.CharField(max_length=200, default="")
    current = fields.BooleanField(default=True)
    uploaded_at = fields.DatetimeField()

    class Meta:
        table = "approval_material"
        unique_together = (("project_code", "enterprise_uscc", "key", "version"),)
        indexes = (("project_code", "enterprise_uscc", "key", "current"),)


class TimelineEntry(Model):
    id = fields.IntField(primary_key=True)
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "approvals.Application", related_name="timeline", on_delete=fields.CASCADE
    )
    at = fields.DatetimeField()
    actor = fields.CharField(max_length=64)
    action = fields.CharField(max_length=40)
    detail: dict[str, Any] = fields.JSONField(default=dict)

    class Meta:
        table = "approval_timeline"
        ordering = ("id",)


class ClockPause(Model):
    id = fields.IntField(primary_key=True)
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "approvals.Application", related_name="pauses", on_delete=fields.CASCADE
    )
    reason = fields.CharField(max_length=200)
    paused_by = fields.CharField(max_length=64)
    paused_at = fields.DatetimeField()
    resumed_at = fields.DatetimeField(null=True)
    working_days = fields.IntField(default=0)

    class Meta:
        table = "approval_clock_pause"
