"""Tortoise models of the vision context: the labelling loop's frames and samples.

Both reference the alerts context by value (the evidence reference, the alarm id), never by foreign
key: contexts do not share tables.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from domain.vision.sample_rules import Verdict


class AlarmFrame(Model):
    """The unmarked frame behind one camera-alarm evidence JPEG, and what the model saw on it.

    The evidence has boxes and a header drawn on it, so it cannot be trained on; this keeps the raw
    frame beside it. Keyed by the evidence reference because a later report of the same alarm
    replaces the alarm's evidence: the frame a verdict labels is always the one staff look at.
    """

    id = fields.IntField(primary_key=True)
    evidence_ref = fields.CharField(max_length=100, unique=True)
    frame_ref = fields.CharField(max_length=100, description="the raw frame (JPEG) in the media store")
    camera_code = fields.CharField(max_length=40)
    alarm_type = fields.CharField(max_length=48)
    captured_at = fields.DatetimeField()
    width = fields.IntField()
    height = fields.IntField()
    detections: fields.JSONField[Any] = fields.JSONField(
        default=list, description="[{class, score, box: [x1, y1, x2, y2] px, offender}]"
    )

    class Meta:
        table = "vision_alarm_frame"


class VisionSample(Model):
    """A labelled training sample: one per alarm (a second verdict corrects it in place)."""

    id = fields.IntField(primary_key=True)
    alarm_id = fields.IntField(unique=True)
    camera_code = fields.CharField(max_length=40)
    alarm_type = fields.CharField(max_length=48)
    captured_at = fields.DatetimeField(db_index=True)
    frame_ref = fields.CharField(max_length=100)
    width = fields.IntField()
    height = fields.IntField()
    boxes: fields.JSONField[Any] = fields.JSONField(
        default=list, description="[{class, box: [x1, y1, x2, y2] px, role: positive|negative}]"
    )
    verdict = fields.CharEnumField(Verdict, max_length=16)
    corrected = fields.BooleanField(default=False, description="staff drew the boxes themselves")
    note = fields.TextField(default="")
    labelled_by = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "vision_sample"
