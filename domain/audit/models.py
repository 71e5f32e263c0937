"""One row per changed record. Append-only: nothing updates or deletes audit entries."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class AuditEntry(Model):
    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(db_index=True)
    actor = fields.CharField(max_length=64, description="account subject, or cli:<user>")
    entity = fields.CharField(max_length=24, description="enterprises, projects, sites, devices, cameras")
    key = fields.CharField(max_length=40, db_index=True, description="the record's natural key")
    action = fields.CharField(max_length=16, description="create, update, retire")
    before: fields.JSONField[Any] = fields.JSONField(null=True)
    after: fields.JSONField[Any] = fields.JSONField(null=True)
    source = fields.CharField(max_length=64, default="", description="api, import:<file>, cli")

    class Meta:
        table = "audit_entry"
