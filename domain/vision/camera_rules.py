"""Validation of per-camera settings set by staff (pure: no I/O).

A camera's settings are where its frames come from (``stream_url``), how often one is sampled
(``sample_fps``), the confidence an alarm needs (``score_threshold``) and the part of the frame the
hard-hat rule applies to (``work_zone``: a polygon in frame fractions, e.g. leaving out the site office).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from domain.errors import ValidationFailed

STREAM_SCHEMES = frozenset({"rtsp", "rtsps", "http", "https"})
MAX_SAMPLE_FPS = 30.0
MAX_ZONE_POINTS = 64
MIN_ZONE_AREA = 1e-4  # a zone thinner than this covers no one: a mistake, not a choice
Point = tuple[float, float]
_MISSING = object()


@dataclass(frozen=True, slots=True)
class CameraSettings:
    """The fields a request changes; a ``None`` attribute is left as it is (``score_threshold`` and
    ``work_zone`` are cleared with ``clear_*``)."""

    name: str | None = None
    stream_url: str | None = None
    sample_fps: float | None = None
    score_threshold: float | None = None
    work_zone: tuple[Point, ...] | None = None
    enabled: bool | None = None
    clear_score_threshold: bool = False
    clear_work_zone: bool = False


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_camera_settings")


def _printable(value: str) -> bool:
    """Valid UTF-8 (no lone surrogates, which the database would refuse) without control characters."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not any(ord(ch) < 32 or ord(ch) == 127 for ch in value)


def stream_url(value: object) -> str:
    if not isinstance(value, str) or len(value) > 300 or not _printable(value):
        raise _invalid("stream_url must be printable text of at most 300 characters")
    if value == "":
        return value  # uploads only
    parts = urlsplit(value)
    if parts.scheme not in STREAM_SCHEMES or not parts.hostname or any(ch.isspace() for ch in value):
        raise _invalid("stream_url must be an rtsp://, rtsps://, http:// or https:// address, or empty")
    return value


def sample_fps(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_SAMPLE_FPS:
        raise _invalid(f"sample_fps must be a number above 0 and at most {MAX_SAMPLE_FPS:g}")
    return float(value)


def score_threshold(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise _invalid("score_threshold must be a number between 0 and 1")
    return float(value)


def polygon_area(points: tuple[Point, ...]) -> float:
    """Shoelace formula: the area of a simple polygon (absolute value, in frame fractions squared)."""
    doubled = sum(
        x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True)
    )
    return abs(doubled) / 2


def work_zone(value: object) -> tuple[Point, ...]:
    if not isinstance(value, list) or not 3 <= len(value) <= MAX_ZONE_POINTS:
        raise _invalid(f"work_zone must be a list of 3 to {MAX_ZONE_POINTS} [x, y] points")
    points: list[Point] = []
    for point in value:
        if (
            not isinstance(point, list)
            or len(point) != 2
            or not all(isinstance(c, int | float) and not isinstance(c, bool) and 0 <= c <= 1 for c in point)
        ):
            raise _invalid("each work_zone point is [x, y] with x and y fractions of the frame (0..1)")
        points.append((float(point[0]), float(point[1])))
    zone = tuple(points)
    if polygon_area(zone) < MIN_ZONE_AREA:
        raise _invalid("work_zone encloses no area (points on a line or repeated)")
    return zone


def camera_settings(body: Mapping[str, object]) -> CameraSettings:
    """The settings in a JSON body; unknown fields are refused so a typo is not silently ignored."""
    known = {"name", "stream_url", "sample_fps", "score_threshold", "work_zone", "enabled"}
    unknown = sorted(set(body) - known - {"code", "site_code"})
    if unknown:
        raise _invalid(f"unknown camera field(s): {', '.join(unknown)}")
    name = body.get("name", _MISSING)
    if name is not _MISSING and (
        not isinstance(name, str) or not 0 < len(name.strip()) <= 64 or not _printable(name)
    ):
        raise _invalid("name must be a non-empty string of at most 64 characters")
    enabled = body.get("enabled", _MISSING)
    if enabled is not _MISSING and not isinstance(enabled, bool):
        raise _invalid("enabled must be true or false")
    threshold, zone = body.get("score_threshold", _MISSING), body.get("work_zone", _MISSING)
    return CameraSettings(
        name=name.strip() if isinstance(name, str) else None,
        stream_url=stream_url(body["stream_url"]) if "stream_url" in body else None,
        sample_fps=sample_fps(body["sample_fps"]) if "sample_fps" in body else None,
        score_threshold=None if threshold in (_MISSING, None) else score_threshold(threshold),
        work_zone=None if zone in (_MISSING, None) else work_zone(zone),
        enabled=enabled if isinstance(enabled, bool) else None,
        clear_score_threshold=threshold is None,
        clear_work_zone=zone is None,
    )
