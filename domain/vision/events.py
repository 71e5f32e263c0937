"""Wire messages of the vision context: uploaded frames on the bus and camera health in the cache.

Uploaded frames go on one stream per camera (``vision.frames.<code>``) so that the worker holding
the camera's lease reads them in order; the consumer group lets a worker that takes a camera over
claim what a dead owner had read but not acknowledged. The stream is trimmed (MAXLEN) because an old
frame is worth nothing: bounded memory, and stale frames drop themselves.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from domain.errors import ValidationFailed

FRAME_STREAM_PREFIX = "vision.frames."
FRAME_GROUP = "vision-workers"
FRAME_STREAM_MAXLEN = 32
HEALTH_KEY_PREFIX = "vision:health:"
WORKER_STATUS_PREFIX = "vision:worker-status:"
CAMERA_LEASE_PREFIX = "vision:camera:"
MAX_WORKERS = 32  # membership slots: how many vision workers can count one another


def worker_slot(index: int) -> str:
    return f"vision:worker-slot:{index}"


def frame_stream(camera_code: str) -> str:
    return FRAME_STREAM_PREFIX + camera_code


def camera_lease(camera_code: str) -> str:
    """The lock held by the worker that owns the camera (the API asks it before queueing a frame)."""
    return CAMERA_LEASE_PREFIX + camera_code


@dataclass(frozen=True, slots=True)
class UploadedFrame:
    camera_code: str
    captured_at: dt.datetime
    content_type: str
    data: bytes

    def to_fields(self) -> dict[str, str]:
        # Streams carry strings (the Redis client decodes responses), hence base64.
        return {
            "camera": self.camera_code,
            "at": self.captured_at.isoformat(),
            "content_type": self.content_type,
            "data": base64.b64encode(self.data).decode("ascii"),
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> UploadedFrame:
        try:
            return cls(
                camera_code=fields["camera"],
                captured_at=dt.datetime.fromisoformat(fields["at"]),
                content_type=fields["content_type"],
                data=base64.b64decode(fields["data"], validate=True),
            )
        except (KeyError, ValueError, binascii.Error) as error:
            raise ValidationFailed("malformed frame message", code="malformed_frame") from error


@dataclass(frozen=True, slots=True)
class CameraHealth:
    """What the admin sees per camera. Times are ISO-8601 UTC strings or None."""

    camera_code: str
    owner: str | None = None
    last_frame_at: str | None = None
    fps: float = 0.0
    frames: int = 0
    inferences: int = 0
    motion_skips: int = 0
    drops: int = 0
    errors: int = 0
    last_detection_at: str | None = None
    last_detection: str | None = None
    last_alarm_at: str | None = None
    source_state: str = "idle"

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> CameraHealth:
        data = json.loads(text)
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in data.items() if key in known})


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    """What one worker reports each rescan: how many cameras it owns, may own, and should own."""

    worker_id: str
    owned: int
    capacity: int
    fair_share: int  # ceil(enabled cameras / live workers): above ``capacity`` means too few workers
    at: str

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WorkerStatus:
        data = json.loads(text)
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in data.items() if key in known})
