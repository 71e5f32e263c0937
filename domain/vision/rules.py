"""Pure rules of the vision context: boxes, an IoU tracker, the ``no_hardhat`` and ``night_work`` rules
and cooldowns.

Everything takes time as an argument and touches no I/O, so scripted detections test it in
milliseconds. Boxes are ``(x1, y1, x2, y2)`` in image pixels.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

Box = tuple[float, float, float, float]
Polygon = Sequence[tuple[float, float]]

HEAD = "head"  # a bare head: the violation
HELMET = "helmet"
ALARM_TYPE_NO_HARDHAT = "no_hardhat"


@dataclass(frozen=True, slots=True)
class Detection:
    """One detected object: ``label`` from the model's class map, ``box`` in image pixels."""

    label: str
    score: float
    box: Box


def iou(a: Box, b: Box) -> float:
    inter_w = min(a[2], b[2]) - max(a[0], b[0])
    inter_h = min(a[3], b[3]) - max(a[1], b[1])
    if inter_w <= 0 or inter_h <= 0:
        return 0.0
    inter = inter_w * inter_h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def cut_by_edge(box: Box, *, width: int, height: int, margin_px: float = 2.0) -> bool:
    """A box touching the frame border shows only part of the object, so its class is unreliable."""
    x1, y1, x2, y2 = box
    return x1 <= margin_px or y1 <= margin_px or x2 >= width - margin_px or y2 >= height - margin_px


def point_in_polygon(x: float, y: float, polygon: Polygon) -> bool:
    """Even-odd ray casting; the polygon is a list of vertices in any consistent unit."""
    inside = False
    count = len(polygon)
    for index in range(count):
        ax, ay = polygon[index]
        bx, by = polygon[(index + 1) % count]
        if (ay > y) != (by > y):
            cross_x = ax + (y - ay) * (bx - ax) / (by - ay)
            if x < cross_x:
                inside = not inside
    return inside


def in_work_zone(box: Box, zone: Polygon | None, *, width: int, height: int) -> bool:
    """The box centre lies in the zone, given as frame fractions; no zone means the whole frame."""
    if not zone or len(zone) < 3:
        return True
    cx = (box[0] + box[2]) / 2 / width
    cy = (box[1] + box[3]) / 2 / height
    return point_in_polygon(cx, cy, zone)


@dataclass(slots=True)
class Track:
    """One object followed across frames. ``head_scores`` holds, per eligible frame, the bare-head
    score (0 when the object was seen wearing a helmet), so a median over it debounces flicker."""

    track_id: int
    box: Box
    label: str
    score: float
    hits: int = 1
    misses: int = 0
    head_scores: deque[float] = field(default_factory=lambda: deque(maxlen=30))
    alarmed_at: float | None = None


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    match_iou: float = 0.3
    max_misses: int = 5


class IouTracker:
    """Greedy IoU matching, class-agnostic: the same head may be scored helmet on one frame and bare
    on the next, and the rule must see both to take the median."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self._config = config or TrackerConfig()
        self._tracks: dict[int, Track] = {}
        self._next_id = 1

    @property
    def tracks(self) -> list[Track]:
        return list(self._tracks.values())

    def update(self, detections: Sequence[Detection]) -> list[tuple[Track, Detection]]:
        """Match this frame's detections to tracks; returns each detection with its track."""
        pairs = sorted(
            (
                (iou(track.box, detection.box), track_id, index)
                for track_id, track in self._tracks.items()
                for index, detection in enumerate(detections)
            ),
            reverse=True,
        )
        matched_tracks: set[int] = set()
        matched: dict[int, Track] = {}
        for overlap, track_id, index in pairs:
            if overlap < self._config.match_iou:
                break
            if track_id in matched_tracks or index in matched:
                continue
            track = self._tracks[track_id]
            detection = detections[index]
            track.box, track.label, track.score = detection.box, detection.label, detection.score
            track.hits += 1
            track.misses = 0
            matched_tracks.add(track_id)
            matched[index] = track
        for track_id in list(self._tracks):
            if track_id not in matched_tracks:
                track = self._tracks[track_id]
                track.misses += 1
                if track.misses > self._config.max_misses:
                    del self._tracks[track_id]
        for index, detection in enumerate(detections):
            if index not in matched:
                track = Track(self._next_id, detection.box, detection.label, detection.score)
                self._tracks[track.track_id] = track
                self._next_id += 1
                matched[index] = track
        return [(matched[index], detection) for index, detection in enumerate(detections)]


@dataclass(frozen=True, slots=True)
class ViolationConfig:
    """``min_frames`` eligible observations with a median bare-head score ≥ ``min_median_score``."""

    min_frames: int = 3
    min_median_score: float = 0.5
    window: int = 5
    track_cooldown_s: float = 600.0
    camera_cooldown_s: float = 120.0
    edge_margin_px: float = 2.0


@dataclass(frozen=True, slots=True)
class Violation:
    """The track that decided the alarm, and every bare head that met the rule in the same frame
    (``offenders``: what the evidence marks and the message counts)."""

    track_id: int
    detection: Detection
    median_score: float
    frames: int
    offenders: tuple[Detection, ...] = ()

    @property
    def people(self) -> int:
        return max(1, len(self.offenders))


@dataclass(slots=True)
class NoHardhatRule:
    """Per-camera state: feed it each frame's tracked detections, it returns a violation at most once
    per track cooldown and once per camera cooldown."""

    config: ViolationConfig = field(default_factory=ViolationConfig)
    zone: Polygon | None = None
    last_camera_alarm_at: float | None = None

    def observe(
        self, matches: Sequence[tuple[Track, Detection]], *, width: int, height: int, now: float
    ) -> Violation | None:
        candidates: list[Violation] = []
        for track, detection in matches:
            if cut_by_edge(detection.box, width=width, height=height, margin_px=self.config.edge_margin_px):
                continue
            if not in_work_zone(detection.box, self.zone, width=width, height=height):
                continue
            track.head_scores.append(detection.score if detection.label == HEAD else 0.0)
            violation = self._judge(track, detection, now=now)
            if violation is not None:
                candidates.append(violation)
        if not candidates or self._camera_cooling(now):
            return None
        best = max(candidates, key=lambda violation: violation.median_score)
        self.last_camera_alarm_at = now
        offending = {violation.track_id for violation in candidates}
        for track, _detection in matches:
            if track.track_id in offending:
                track.alarmed_at = now  # counted in this alarm: not alarmed again on its own
        return replace(best, offenders=tuple(violation.detection for violation in candidates))

    def _judge(self, track: Track, detection: Detection, *, now: float) -> Violation | None:
        if detection.label != HEAD or len(track.head_scores) < self.config.min_frames:
            return None
        if track.alarmed_at is not None and now - track.alarmed_at < self.config.track_cooldown_s:
            return None
        recent = list(track.head_scores)[-self.config.window :]
        median = statistics.median(recent)
        if median < self.config.min_median_score:
            return None
        return Violation(track.track_id, detection, median, len(track.head_scores))

    def _camera_cooling(self, now: float) -> bool:
        last = self.last_camera_alarm_at
        return last is not None and now - last < self.config.camera_cooldown_s


# --- night work ----------------------------------------------------------------------------------
ALARM_TYPE_NIGHT_WORK = "night_work"
PERSON_LABELS = frozenset({HEAD, HELMET})  # a head, with or without a helmet, is a person on site


@dataclass(frozen=True, slots=True)
class NightWorkConfig:
    """People count as working at night once a tracked person was seen on ``min_frames`` inferences
    over at least ``min_seconds`` (a guard walking through is not night work). One alarm per camera
    per ``cooldown_s``. The night is [start, end) local time, wrapping midnight (GB 12523: 22-06)."""

    start: dt.time = dt.time(22, 0)
    end: dt.time = dt.time(6, 0)
    timezone: str = "Asia/Shanghai"
    min_frames: int = 5
    min_seconds: float = 60.0
    forget_after_s: float = 120.0
    cooldown_s: float = 1800.0

    def is_night(self, at: dt.datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.timezone)).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@dataclass(frozen=True, slots=True)
class NightWork:
    """People at work at night on one frame: what the alarm counts and the evidence marks."""

    people: tuple[Detection, ...]
    since: float  # when the longest-present of them was first seen (epoch seconds)


@dataclass(slots=True)
class _Sighting:
    first: float
    last: float
    hits: int


@dataclass(slots=True)
class NightWorkRule:
    """Per camera: feed it each frame's tracked detections; it proposes night work at most once per
    cooldown. The permit check is I/O, so the caller asks it and then calls ``raised`` (or not)."""

    config: NightWorkConfig = field(default_factory=NightWorkConfig)
    zone: Polygon | None = None
    last_alarm_at: float | None = None
    _seen: dict[int, _Sighting] = field(default_factory=dict)

    def observe(
        self, matches: Sequence[tuple[Track, Detection]], *, width: int, height: int, at: dt.datetime
    ) -> NightWork | None:
        now = at.timestamp()
        if not self.config.is_night(at):
            self._seen.clear()
            return None
        working: list[tuple[Detection, float]] = []
        for track, detection in matches:
            if detection.label not in PERSON_LABELS:
                continue
            if not in_work_zone(detection.box, self.zone, width=width, height=height):
                continue
            sighting = self._seen.setdefault(track.track_id, _Sighting(now, now, 0))
            sighting.last, sighting.hits = now, sighting.hits + 1
            if sighting.hits >= self.config.min_frames and now - sighting.first >= self.config.min_seconds:
                working.append((detection, sighting.first))
        self._forget(now)
        if not working or self._cooling(now):
            return None
        return NightWork(tuple(d for d, _first in working), min(first for _d, first in working))

    def raised(self, at: dt.datetime) -> None:
        self.last_alarm_at = at.timestamp()

    def _forget(self, now: float) -> None:
        stale = [key for key, seen in self._seen.items() if now - seen.last > self.config.forget_after_s]
        for key in stale:
            del self._seen[key]

    def _cooling(self, now: float) -> bool:
        last = self.last_alarm_at
        return last is not None and now - last < self.config.cooldown_s


# --- device keys --------------------------------------------------------------------------------
DEVICE_KEY_CONTEXT = b"wenling-camera-device-key:v1:"


def camera_device_key(secret: bytes, camera_code: str) -> str:
    """The key a camera uploads frames with: HMAC-SHA256(secret, context + code), hex.

    Derived, not stored, so no key table can leak; rotating ``SECRET_KEY`` rotates every key, and the
    ``v1`` context lets a future scheme change keys without touching the secret.
    """
    return hmac.new(secret, DEVICE_KEY_CONTEXT + camera_code.encode(), hashlib.sha256).hexdigest()


def device_key_matches(secret: bytes, camera_code: str, presented: str) -> bool:
    return hmac.compare_digest(camera_device_key(secret, camera_code), presented.strip())
