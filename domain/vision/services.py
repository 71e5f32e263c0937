"""Vision use cases with I/O: camera lookups, accepting an uploaded frame, camera health.

Cameras are registered in the projects context; this reads them (never writes) and hands the worker
plain ``CameraInfo`` values. Health lives in the cache port (it is telemetry, not a record).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus

from domain.errors import DomainError, Forbidden, NotFound, Unauthorized
from domain.ports import Cache, EventBus, Lock
from domain.projects.models import Camera
from domain.vision.events import (
    FRAME_GROUP,
    FRAME_STREAM_MAXLEN,
    HEALTH_KEY_PREFIX,
    MAX_WORKERS,
    WORKER_STATUS_PREFIX,
    CameraHealth,
    UploadedFrame,
    WorkerStatus,
    camera_lease,
    frame_stream,
    worker_slot,
)
from domain.vision.rules import device_key_matches

HEALTH_TTL_S = 7 * 24 * 3600.0
UNOWNED_RETRY_AFTER_S = 15  # about a worker's rescan plus a dead owner's lease expiry


class CameraUnowned(DomainError):
    """No vision worker holds the camera: a frame queued now would never be processed."""

    code = "camera_unowned"
    status = HTTPStatus.SERVICE_UNAVAILABLE
    retry_after_s = UNOWNED_RETRY_AFTER_S


@dataclass(frozen=True, slots=True)
class CameraInfo:
    code: str
    name: str
    site_code: str
    stream_url: str
    sample_fps: float
    work_zone: tuple[tuple[float, float], ...] | None
    enabled: bool
    score_threshold: float | None = None  # the camera's own alarm confidence floor


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
        score_threshold=camera.score_threshold,
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


async def camera_owner(lock: Lock, code: str) -> str | None:
    return await lock.owner(camera_lease(code))


async def accept_frame(
    bus: EventBus,
    frame: UploadedFrame,
    *,
    owners: Lock | None = None,
    known_groups: set[str] | None = None,
) -> str:
    """Queue an uploaded frame for the camera's owner; returns the stream message id. With
    ``owners`` (the API always passes it) a camera no worker holds is refused (``CameraUnowned``)
    rather than queued for nobody."""
    if owners is not None and await camera_owner(owners, frame.camera_code) is None:
        raise CameraUnowned(f"no vision worker processes camera {frame.camera_code} now; retry later")
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


async def save_worker_status(cache: Cache, status: WorkerStatus, *, ttl_s: float) -> None:
    await cache.set(WORKER_STATUS_PREFIX + status.worker_id, status.to_json(), ttl_s=ttl_s)


@dataclass(frozen=True, slots=True)
class FleetCapacity:
    cameras: int  # enabled cameras on active sites
    unowned: tuple[str, ...]
    workers: tuple[WorkerStatus, ...]
    capacity: int  # sum of the live workers' per-worker limits

    @property
    def over_capacity(self) -> bool:
        return bool(self.unowned)

    @property
    def workers_needed(self) -> int:
        """Live workers needed at the largest per-worker limit reported (at least one)."""
        limit = max((status.capacity for status in self.workers), default=0)
        return max(1, math.ceil(self.cameras / limit)) if limit else 1

    def to_dict(self) -> dict[str, object]:
        return {
            "cameras": self.cameras,
            "owned": self.cameras - len(self.unowned),
            "unowned": len(self.unowned),
            "unowned_cameras": list(self.unowned[:100]),
            "capacity": self.capacity,
            "over_capacity": self.over_capacity,
            "workers": [
                {
                    "worker_id": w.worker_id,
                    "owned": w.owned,
                    "capacity": w.capacity,
                    "fair_share": w.fair_share,
                }
                for w in self.workers
            ],
            "workers_needed": self.workers_needed,
        }


async def fleet_capacity(cache: Cache, lock: Lock, cameras: Sequence[CameraInfo]) -> FleetCapacity:
    """Who owns what, from the leases themselves (not from health, which outlives its owner)."""
    enabled = [camera.code for camera in cameras if camera.enabled]
    unowned = tuple([code for code in enabled if await camera_owner(lock, code) is None])
    workers: list[WorkerStatus] = []
    for index in range(MAX_WORKERS):
        worker_id = await lock.owner(worker_slot(index))
        raw = None if worker_id is None else await cache.get(WORKER_STATUS_PREFIX + worker_id)
        if raw is not None:
            workers.append(WorkerStatus.from_json(raw))
    capacity = sum(status.capacity for status in workers)
    return FleetCapacity(len(enabled), unowned, tuple(workers), capacity)
