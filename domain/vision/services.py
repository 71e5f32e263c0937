"""Vision use cases with I/O: camera lookups, accepting an uploaded frame, camera health.

Cameras are registered in the projects context; this reads them (never writes) and hands the worker
plain ``CameraInfo`` values. Health lives in the cache port (it is telemetry, not a record).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from domain.errors import Forbidden, NotFound, Unauthorized
from domain.ports import Cache, EventBus
from domain.projects.models import Camera
from domain.vision.events import (
    FRAME_GROUP,
    FRAME_STREAM_MAXLEN,
    HEALTH_KEY_PREFIX,
    CameraHealth,
    UploadedFrame,
    frame_stream,
)
from domain.vision.rules import device_key_matches

HEALTH_TTL_S = 7 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class CameraInfo:
    code: str
    name: str
    site_code: str
    stream_url: str
    sample_fps: float
    work_zone: tuple[tuple[float, float], ...] | None
    enabled: bool


def _zone(raw: object) -> tuple[tuple[float, float], ...] | None:
    if not isinstance(raw, list) or len(raw) < 3:
        return None
    points = []
    for point in raw:
        if not isinstance(point, list | tuple) or len(point) != 2:
            return None
        points.append((float(point[0]), float(point[1])))
    return tuple(points)


def _info(camera: Camera, site_code: str) -> CameraInfo:
    return CameraInfo(
        code=camera.code,
        name=camera.name,
        site_code=site_code,
        stream_url=camera.stream_url,
        sample_fps=camera.sample_fps,
        work_zone=_zone(camera.work_zone),
        enabled=camera.enabled,
    )


async def list_cameras(*, enabled_only: bool = True) -> list[CameraInfo]:
    query = Camera.all().select_related("site").order_by("code")
    if enabled_only:
        query = query.filter(enabled=True, site__active=True)
    return [_info(camera, camera.site.code) for camera in await query]


async def camera_info(code: str) -> CameraInfo:
    camera = await Camera.get_or_none(code=code).select_related("site")
    if camera is None:
        raise NotFound("no such camera", code="camera_not_found")
    return _info(camera, camera.site.code)


async def authenticate_camera(code: str, presented_key: str | None, *, secret: bytes) -> CameraInfo:
    """The camera behind a device key; unknown cameras and wrong keys look the same (no probing)."""
    if not presented_key:
        raise Unauthorized("a camera device key is required", code="missing_device_key")
    camera = await Camera.get_or_none(code=code).select_related("site")
    if camera is None or not device_key_matches(secret, code, presented_key):
        raise Unauthorized("invalid camera device key", code="invalid_device_key")
    if not camera.enabled:
        raise Forbidden("this camera is disabled", code="camera_disabled")
    return _info(camera, camera.site.code)


async def accept_frame(bus: EventBus, frame: UploadedFrame, *, known_groups: set[str] | None = None) -> str:
    """Queue an uploaded frame for the camera's owner; returns the stream message id."""
    stream = frame_stream(frame.camera_code)
    if known_groups is None or stream not in known_groups:
        # Create the group first so frames sent before any worker claimed the camera are not skipped.
        await bus.ensure_group(stream, FRAME_GROUP)
        if known_groups is not None:
            known_groups.add(stream)
    return await bus.publish(stream, frame.to_fields(), maxlen=FRAME_STREAM_MAXLEN)


async def save_health(cache: Cache, health: CameraHealth) -> None:
    await cache.set(HEALTH_KEY_PREFIX + health.camera_code, health.to_json(), ttl_s=HEALTH_TTL_S)


async def load_health(cache: Cache, code: str) -> CameraHealth:
    raw = await cache.get(HEALTH_KEY_PREFIX + code)
    return CameraHealth(camera_code=code) if raw is None else CameraHealth.from_json(raw)


async def health_report(
    cache: Cache, cameras: Sequence[CameraInfo], *, now: dt.datetime
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for camera in cameras:
        health = await load_health(cache, camera.code)
        stale = (
            health.last_frame_at is None
            or (now - dt.datetime.fromisoformat(health.last_frame_at)).total_seconds() > 120
        )
        rows.append(
            {
                "camera_code": camera.code,
                "name": camera.name,
                "site_code": camera.site_code,
                "enabled": camera.enabled,
                "owner": health.owner,
                "last_frame_at": health.last_frame_at,
                "fps": health.fps,
                "frames": health.frames,
                "inferences": health.inferences,
                "motion_skips": health.motion_skips,
                "drops": health.drops,
                "errors": health.errors,
                "last_detection_at": health.last_detection_at,
                "last_detection": health.last_detection,
                "last_alarm_at": health.last_alarm_at,
                "source_state": health.source_state,
                "stale": stale,
            }
        )
    return rows
