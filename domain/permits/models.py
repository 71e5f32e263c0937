"""Night-work permits, referenced by site code (the projects context owns sites)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class NightWorkPermit(Model):
    id = fields.IntField(primary_key=True)
    certificate_no = fields.CharField(max_length=40, unique=True)
    site_code = fields.CharField(max_length=24, db_index=True)
    valid_from = fields.DateField(description="first night (Asia/Shanghai date the night starts)")
    valid_to = fields.DateField(description="last night, inclusive")
    night_start = fields.CharField(max_length=5, default="22:00", description="HH:MM local")
    night_end = fields.CharField(max_length=5, default="06:00", description="HH:MM local, next morning")
    works = fields.CharField(
        max_length=200, default="", description="what may be done (e.g. concrete pouring)"
    )
    issued_by = fields.CharField(max_length=32, default="housing")
    notice_posted = fields.BooleanField(default=False, description="public notice posted near the site")
    notice_ref = fields.CharField(max_length=80, default="", description="photo of the posted notice")
    revoked_at = fields.DatetimeField(null=True)
    created_by = fields.CharField(max_length=32, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "night_work_permit"
