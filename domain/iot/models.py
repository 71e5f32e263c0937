"""Raw HJ 212 frames. On PostgreSQL the table is partitioned by day on ``received_at`` (migration
0002), so a retention purge drops whole days; SQLite keeps one plain table."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from domain.iot.rules import FrameStatus


class RawFrame(Model):
    id = fields.BigIntField(primary_key=True)
    received_at = fields.DatetimeField()
    mn = fields.CharField(max_length=40)
    source = fields.CharField(max_length=8, description="tcp or mqtt")
    status = fields.CharEnumField(FrameStatus, max_length=12)
    reason = fields.CharField(max_length=32, default="")
    qn = fields.CharField(max_length=20, default="")
    frame = fields.TextField()

    class Meta:
        table = "iot_raw_frame"
        indexes = (("status", "received_at"), ("mn", "received_at"))
