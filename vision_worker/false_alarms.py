"""False alarms per camera-day: the figure a site manager feels, measured by replaying labelled frame
sequences through the worker's own tracker and ``no_hardhat`` rule (same debounce, same cooldowns).

AP and precision judge single frames; an alarm needs a bare head tracked over several frames with a
median score over the floor. So this replays frames in capture order, per camera, and counts each
alarm the rule raises whose triggering head matches no labelled bare head (IoU ≥ 0.5) as false. A
rejected verdict's head is a hard negative (left out of the label file), so it counts as false here.

A frame takes part only when its name says which camera and when: ``CAMERA_YYYYMMDD_HHMMSS`` with an
optional ``_suffix`` (what ``dataset export`` writes, and what a clip sampled at the camera's rate
should be named). Other frames still count for AP, and are reported as not in a sequence.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from domain.vision.rules import (
    HEAD,
    Box,
    Detection,
    IouTracker,
    NoHardhatRule,
    TrackerConfig,
    ViolationConfig,
    iou,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
SEQUENCE_NAME = re.compile(
    r"^(?P<camera>[A-Za-z0-9_-]+?)_(?P<day>\d{8})_(?P<time>\d{6})(?:_[A-Za-z0-9_-]*)?$"
)
MATCH_IOU = 0.5


@dataclass(frozen=True, slots=True)
class SequenceFrame:
    """One labelled frame of a camera's sequence: what the model saw at the operating threshold and
    where the labelled bare heads are."""

    camera: str
    at: dt.datetime
    name: str
    detections: tuple[Detection, ...]
    bare_heads: tuple[Box, ...]
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class FalseAlarmReport:
    camera_days: int
    sequence_frames: int
    loose_frames: int  # names without camera and time: in AP, not in this figure
    alarms: int
    false_alarms: int

    @property
    def per_camera_day(self) -> float | None:
        """None when no frame was in a sequence: no figure is better than a made-up zero."""
        return self.false_alarms / self.camera_days if self.camera_days else None

    def as_json(self) -> dict[str, object]:
        rate = self.per_camera_day
        return {
            "camera_days": self.camera_days,
            "sequence_frames": self.sequence_frames,
            "loose_frames": self.loose_frames,
            "alarms": self.alarms,
            "false_alarms": self.false_alarms,
            "false_alarms_per_camera_day": None if rate is None else round(rate, 4),
        }


def sequence_key(stem: str) -> tuple[str, dt.datetime] | None:
    """(camera, local capture time) from a frame's name; None if the name does not carry both."""
    found = SEQUENCE_NAME.match(stem)
    if found is None:
        return None
    try:
        local = dt.datetime.strptime(found["day"] + found["time"], "%Y%m%d%H%M%S")  # noqa: DTZ007 - local
    except ValueError:
        return None  # 20261332_256199: digits, not a time
    return found["camera"], local.replace(tzinfo=SHANGHAI)


def _is_false(detection: Detection, bare_heads: Sequence[Box]) -> bool:
    return not any(iou(detection.box, head) >= MATCH_IOU for head in bare_heads)


def replay(
    frames: Iterable[SequenceFrame],
    *,
    loose_frames: int = 0,
    violation: ViolationConfig | None = None,
    tracker: TrackerConfig | None = None,
) -> FalseAlarmReport:
    """Run each camera's frames, in capture order, through a fresh tracker and rule as the worker
    does; an alarm is false when none of its offending heads is a labelled bare head."""
    by_camera: dict[str, list[SequenceFrame]] = defaultdict(list)
    for frame in frames:
        by_camera[frame.camera].append(frame)
    alarms = false_alarms = count = 0
    camera_days: set[tuple[str, dt.date]] = set()
    for camera, sequence in by_camera.items():
        track = IouTracker(tracker)
        rule = NoHardhatRule(violation or ViolationConfig())
        for frame in sorted(sequence, key=lambda f: (f.at, f.name)):
            count += 1
            camera_days.add((camera, frame.at.date()))
            matches = track.update(list(frame.detections))
            raised = rule.observe(matches, width=frame.width, height=frame.height, now=frame.at.timestamp())
            if raised is None:
                continue
            alarms += 1
            offenders = raised.offenders or (raised.detection,)
            if all(_is_false(offender, frame.bare_heads) for offender in offenders):
                false_alarms += 1
    return FalseAlarmReport(len(camera_days), count, loose_frames, alarms, false_alarms)


def bare_head_boxes(labelled: Iterable[tuple[str, Box]]) -> tuple[Box, ...]:
    return tuple(box for label, box in labelled if label == HEAD)
