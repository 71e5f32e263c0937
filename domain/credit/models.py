"""Tortoise models of the credit context. Subjects of other contexts are referenced by code, never by
foreign key: an enterprise by its unified social credit code, a person by id, a project by its code."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from domain.credit.catalogue import Category
from domain.credit.rules import AppealStatus, RecordStatus, SubjectKind


class CreditSubject(Model):
    """Who a credit file belongs to, with the name the public lookup searches."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(SubjectKind, max_length=16)
    subject_id = fields.CharField(max_length=40, description="USCC, person id or project code")
    name = fields.CharField(max_length=128, db_index=True)
    enterprise_uscc = fields.CharField(max_length=18, default="", description="employer or owner")
    holder_account = fields.CharField(
        max_length=40, null=True, unique=True, description="account id bound by staff"
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "credit_subject"
        unique_together = (("kind", "subject_id"),)


class CreditRecord(Model):
    id = fields.IntField(primary_key=True)
    subject_kind = fields.CharEnumField(SubjectKind, max_length=16)
    subject_id = fields.CharField(max_length=40)
    record_type = fields.CharField(max_length=40)
    category = fields.CharEnumField(Category, max_length=24)
    points = fields.IntField()
    effective_on = fields.DateField()
    expires_on = fields.DateField()
    penalty_months = fields.IntField(default=0)
    status = fields.CharEnumField(RecordStatus, max_length=16, db_index=True)
    approved_on = fields.DateField(null=True)
    revoked_on = fields.DateField(null=True)
    project_code = fields.CharField(max_length=16, default="")
    source_ref = fields.CharField(max_length=120, description="source document reference")
    source_event_id = fields.CharField(
        max_length=64, null=True, unique=True, description="consumed domain event"
    )
    summary = fields.TextField(default="", description="internal note, never public")
    created_by = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)
    reviewed_by = fields.CharField(max_length=64, default="")
    reviewed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "credit_record"
        unique_together = (("subject_kind", "subject_id", "record_type", "source_ref"),)
        indexes = (("subject_kind", "subject_id"),)


class CreditAppeal(Model):
    id = fields.IntField(primary_key=True)
    record: fields.ForeignKeyRelation[CreditRecord] = fields.ForeignKeyField(
        "credit.CreditRecord", related_name="appeals", on_delete=fields.CASCADE
    )
    record_id: int
    status = fields.CharEnumField(AppealStatus, max_length=16, db_index=True)
    filed_by = fields.CharField(max_length=64)
    reason = fields.TextField()
    attachments: fields.JSONField[list[str]] = fields.JSONField(
        default=list, description="media store references"
    )
    filed_at = fields.DatetimeField()
    decided_by = fields.CharField(max_length=64, default="")
    decided_at = fields.DatetimeField(null=True)
    decision_note = fields.TextField(default="")

    class Meta:
        table = "credit_appeal"


class CreditAudit(Model):
    """Append-only: who did what to which record or appeal, and when."""

    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField()
    actor = fields.CharField(max_length=64)
    action = fields.CharField(max_length=32)
    record_id = fields.IntField(null=True, db_index=True)
    appeal_id = fields.IntField(null=True)
    detail: fields.JSONField[dict[str, object]] = fields.JSONField(default=dict)

    class Meta:
        table = "credit_audit"
