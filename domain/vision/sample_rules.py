"""Pure rules of the labelling loop: staff verdicts on camera alarms become labelled samples.

What the model saw when it raised the alarm (``SeenBox``: class, score, pixel box, and whether it was
one of the boxes that triggered the alarm) plus the staff's verdict give the sample's boxes:

- **confirmed**: every box the model saw is right, so every one is a positive of its class (the
  triggering bare heads are ``head`` positives).
- **rejected**: the triggering boxes are wrong. They are kept as ``negative`` (for the record), and
  a YOLO export leaves them out of the label file: the frame then teaches the model that nothing is
  there, which is what a hard negative is. The other boxes stay positives of their class.
- **corrected boxes** replace the model's boxes entirely: they are the positives, and a triggering
  box none of them covers (same class, IoU >= 0.5) is kept as a negative.

The train/val split assigns whole (camera, local day) groups by a hash, so the same group lands on
the same side in every export and no frame of a camera-day leaks between train and val.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.errors import ValidationFailed
from domain.vision.rules import HEAD, HELMET, Box, iou

LABELLED_CLASSES = (HEAD, HELMET)  # what staff may draw; the model's other classes are not labelled
MAX_BOXES = 200
MAX_NOTE = 500
COVER_IOU = 0.5


class Verdict(StrEnum):
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class BoxRole(StrEnum):
    POSITIVE = "positive"  # the object is there: a label line
    NEGATIVE = "negative"  # the model claimed it and staff said no: no label line (a hard negative)


class Split(StrEnum):
    TRAIN = "train"
    VAL = "val"


@dataclass(frozen=True, slots=True)
class SeenBox:
    """One detection on the alarm's frame, in pixels of that frame."""

    label: str
    score: float
    box: Box
    offender: bool  # one of the boxes that triggered the alarm

    def to_json(self) -> dict[str, Any]:
        return {
            "class": self.label,
            "score": round(self.score, 4),
            "box": list(self.box),
            "offender": self.offender,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> SeenBox:
        x1, y1, x2, y2 = (float(value) for value in raw["box"])
        return cls(str(raw["class"]), float(raw["score"]), (x1, y1, x2, y2), bool(raw["offender"]))


@dataclass(frozen=True, slots=True)
class LabelBox:
    label: str
    box: Box
    role: BoxRole

    def to_json(self) -> dict[str, Any]:
        return {"class": self.label, "box": [round(value, 1) for value in self.box], "role": self.role.value}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> LabelBox:
        x1, y1, x2, y2 = (float(value) for value in raw["box"])
        return cls(str(raw["class"]), (x1, y1, x2, y2), BoxRole(raw["role"]))


@dataclass(frozen=True, slots=True)
class VerdictInput:
    verdict: Verdict
    boxes: tuple[tuple[str, Box], ...] | None  # None: keep the model's boxes
    note: str


def _box(raw: object) -> Box:
    if not isinstance(raw, list) or len(raw) != 4:
        raise ValidationFailed("a box is [x1, y1, x2, y2] in pixels", code="invalid_box")
    if not all(isinstance(value, int | float) and not isinstance(value, bool) for value in raw):
        raise ValidationFailed("box coordinates must be numbers", code="invalid_box")
    x1, y1, x2, y2 = (float(value) for value in raw)
    if not all(math.isfinite(value) for value in (x1, y1, x2, y2)) or x1 >= x2 or y1 >= y2:
        raise ValidationFailed("a box needs x1 < x2 and y1 < y2", code="invalid_box")
    return (x1, y1, x2, y2)


def _corrected(raw: object) -> tuple[tuple[str, Box], ...]:
    if not isinstance(raw, list) or len(raw) > MAX_BOXES:
        raise ValidationFailed(f"boxes is a list of at most {MAX_BOXES} boxes", code="invalid_box")
    boxes: list[tuple[str, Box]] = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"class", "box"}:
            raise ValidationFailed('each box is {"class": ..., "box": [x1, y1, x2, y2]}', code="invalid_box")
        if item["class"] not in LABELLED_CLASSES:
            raise ValidationFailed(f"class must be one of {', '.join(LABELLED_CLASSES)}", code="invalid_box")
        boxes.append((str(item["class"]), _box(item["box"])))
    return tuple(boxes)


def parse_verdict(body: Mapping[str, Any]) -> VerdictInput:
    """``{"verdict": "confirmed"|"rejected", "boxes": [...] (optional), "note": "..." (optional)}``."""
    unknown = set(body) - {"verdict", "boxes", "note"}
    if unknown:
        raise ValidationFailed(f"unknown fields: {', '.join(sorted(unknown))}", code="invalid_verdict")
    try:
        verdict = Verdict(str(body.get("verdict")))
    except ValueError as error:
        raise ValidationFailed("verdict is confirmed or rejected", code="invalid_verdict") from error
    note = body.get("note", "")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise ValidationFailed(f"note is text of at most {MAX_NOTE} characters", code="invalid_verdict")
    raw_boxes = body.get("boxes")
    boxes = None if raw_boxes is None else _corrected(raw_boxes)
    return VerdictInput(verdict, boxes, note.strip())


def check_inside(boxes: Sequence[tuple[str, Box]], *, width: int, height: int, slack_px: float = 1.0) -> None:
    """Corrected boxes must lie on the frame (a pixel of slack for rounding in the drawing tool)."""
    for _label, (x1, y1, x2, y2) in boxes:
        if x1 < -slack_px or y1 < -slack_px or x2 > width + slack_px or y2 > height + slack_px:
            raise ValidationFailed(f"a box lies outside the {width}x{height} frame", code="invalid_box")


def label_boxes(
    verdict: Verdict, seen: Sequence[SeenBox], corrected: Sequence[tuple[str, Box]] | None = None
) -> tuple[LabelBox, ...]:
    """The sample's boxes from what the model saw and the staff's verdict (module docstring)."""
    if corrected is not None:
        positives = [LabelBox(label, box, BoxRole.POSITIVE) for label, box in corrected]
        missed = [
            LabelBox(s.label, s.box, BoxRole.NEGATIVE)
            for s in seen
            if s.offender
            and not any(label == s.label and iou(box, s.box) >= COVER_IOU for label, box in corrected)
        ]
        return (*positives, *missed)
    rejected = verdict is Verdict.REJECTED
    return tuple(
        LabelBox(s.label, s.box, BoxRole.NEGATIVE if rejected and s.offender else BoxRole.POSITIVE)
        for s in seen
    )


def split_of(camera_code: str, day: dt.date, *, val_fraction: float) -> Split:
    """Train or val for a whole (camera, local day) group: stable across exports and machines."""
    if not 0.0 <= val_fraction <= 1.0:
        raise ValueError("val_fraction is between 0 and 1")
    digest = hashlib.sha256(f"{camera_code}|{day.isoformat()}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64  # uniform in [0, 1)
    return Split.VAL if position < val_fraction else Split.TRAIN
