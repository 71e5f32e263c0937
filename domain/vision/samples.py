"""The labelling loop's use cases: keep the frame behind a camera alarm, turn a staff verdict into a
labelled sample, and read the samples back for a dataset export.

The rules (which box becomes a positive, which a hard negative, the split) are in ``sample_rules``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.alerts import camera as camera_alarms
from domain.errors import Conflict
from domain.vision.models import AlarmFrame, VisionSample
from domain.vision.rules import Detection
from domain.vision.sample_rules import LabelBox, SeenBox, VerdictInput, check_inside, label_boxes


@dataclass(frozen=True, slots=True)
class KeptFrame:
    """The raw frame of one alarm evidence, as the vision worker hands it over."""

    evidence_ref: str
    frame_ref: str
    camera_code: str
    alarm_type: str
    captured_at: dt.datetime
    width: int
    height: int


async def keep_alarm_frame(
    frame: KeptFrame, *, detections: Sequence[Detection], offenders: Sequence[Detection]
) -> None:
    """Remember the raw frame and every detection on it (the offenders flagged) for a later verdict."""
    seen = [SeenBox(d.label, d.score, d.box, d in offenders).to_json() for d in detections]
    seen += [SeenBox(d.label, d.score, d.box, True).to_json() for d in offenders if d not in detections]
    values: dict[str, Any] = {
        "frame_ref": frame.frame_ref,
        "camera_code": frame.camera_code,
        "alarm_type": frame.alarm_type,
        "captured_at": frame.captured_at,
        "width": frame.width,
        "height": frame.height,
        "detections": seen,
    }
    # The same evidence bytes twice (content-addressed refs) is the same frame: keep one row.
    try:
        async with in_transaction():
            await AlarmFrame.create(evidence_ref=frame.evidence_ref, **values)
    except IntegrityError:
        await AlarmFrame.filter(evidence_ref=frame.evidence_ref).update(**values)


def _sample_json(sample: VisionSample) -> dict[str, Any]:
    return {
        "alarm_id": sample.alarm_id,
        "camera_code": sample.camera_code,
        "alarm_type": sample.alarm_type,
        "captured_at": sample.captured_at.isoformat(),
        "frame_ref": sample.frame_ref,
        "width": sample.width,
        "height": sample.height,
        "verdict": sample.verdict.value,
        "corrected": sample.corrected,
        "boxes": sample.boxes,
        "note": sample.note,
        "labelled_by": sample.labelled_by,
        "created_at": sample.created_at.isoformat(),
        "updated_at": sample.updated_at.isoformat(),
    }


async def record_verdict(
    alarm_id: int, given: VerdictInput, *, actor: str, at: dt.datetime
) -> dict[str, Any]:
    """Staff confirm or reject a camera alarm (optionally redrawing its boxes): the alarm's frame
    becomes a labelled sample. A second verdict on the same alarm replaces the sample."""
    alarm = await camera_alarms.camera_alarm(alarm_id)
    frame = await AlarmFrame.get_or_none(evidence_ref=alarm.evidence_ref)
    if frame is None:
        raise Conflict(
            "this camera alarm kept no raw frame (raised before frames were kept)", code="no_frame_kept"
        )
    if given.boxes is not None:
        check_inside(given.boxes, width=frame.width, height=frame.height)
    seen = [SeenBox.from_json(raw) for raw in frame.detections]
    boxes = [box.to_json() for box in label_boxes(given.verdict, seen, given.boxes)]
    values: dict[str, Any] = {
        "camera_code": frame.camera_code,
        "alarm_type": frame.alarm_type,
        "captured_at": frame.captured_at,
        "frame_ref": frame.frame_ref,
        "width": frame.width,
        "height": frame.height,
        "boxes": boxes,
        "verdict": given.verdict,
        "corrected": given.boxes is not None,
        "note": given.note,
        "labelled_by": actor,
        "updated_at": at,
    }
    async with in_transaction():
        await _upsert_sample(alarm.alarm_id, values, at=at)
        await camera_alarms.note_verdict(
            alarm.alarm_id, verdict=given.verdict.value, actor=actor, note=given.note, at=at
        )
    return _sample_json(await VisionSample.get(alarm_id=alarm.alarm_id))


async def _upsert_sample(alarm_id: int, values: dict[str, Any], *, at: dt.datetime) -> None:
    """One sample per alarm even when two verdicts race: the loser of the insert updates."""
    if await VisionSample.filter(alarm_id=alarm_id).update(**values):
        return
    try:
        async with in_transaction():
            await VisionSample.create(alarm_id=alarm_id, created_at=at, **values)
    except IntegrityError:
        await VisionSample.filter(alarm_id=alarm_id).update(**values)


async def sample_of(alarm_id: int) -> dict[str, Any] | None:
    sample = await VisionSample.get_or_none(alarm_id=alarm_id)
    return None if sample is None else _sample_json(sample)


@dataclass(frozen=True, slots=True)
class SampleRecord:
    """One sample as an export reads it."""

    alarm_id: int
    camera_code: str
    captured_at: dt.datetime
    frame_ref: str
    width: int
    height: int
    boxes: tuple[LabelBox, ...]


async def samples_since(since: dt.datetime) -> list[SampleRecord]:
    rows = await VisionSample.filter(captured_at__gte=since).order_by("captured_at", "alarm_id")
    return [
        SampleRecord(
            alarm_id=row.alarm_id,
            camera_code=row.camera_code,
            captured_at=row.captured_at,
            frame_ref=row.frame_ref,
            width=row.width,
            height=row.height,
            boxes=tuple(LabelBox.from_json(raw) for raw in row.boxes),
        )
        for row in rows
    ]


async def latest_frame_ref(camera_code: str) -> str | None:
    """The raw frame behind the camera's latest alarm (media reference), or None: the picture staff
    draw the camera's work zone on."""
    row = await AlarmFrame.filter(camera_code=camera_code).order_by("-captured_at", "-id").first()
    return row.frame_ref if row is not None else None
