"""The violation outcome: evidence stored, one alarm per camera cooldown shared by every worker."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adapters.media_store import LocalMediaStore, MediaStore
from adapters.memory import MemoryDedupStore, MemoryEventBus
from domain.alerts import services as alerts_services
from domain.vision.rules import Detection, Violation
from domain.vision.services import CameraInfo
from vision_worker.outcome import RAISE_CLAIM_S, AlarmOutcome

T0 = dt.datetime(2026, 5, 1, 2, 0, tzinfo=dt.UTC)
CAMERA = CameraInfo("CAM-0031-1", "大门摄像头", "WL-2026-0031-S1", "", 1.0, None, True)
HEAD = Detection("head", 0.9, (100.0, 100.0, 140.0, 140.0))
VIOLATION = Violation(track_id=1, detection=HEAD, median_score=0.88, frames=3)
IMAGE = np.zeros((416, 416, 3), dtype=np.uint8)


class FakeAlerts:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail_with: BaseException | None = None

    async def raise_alarm(self, **kwargs: Any) -> int:
        self.calls.append(kwargs)
        if self.fail_with is not None:
            raise self.fail_with
        return len(self.calls)


@pytest.fixture
def alerts(monkeypatch: pytest.MonkeyPatch) -> FakeAlerts:
    fake = FakeAlerts()
    monkeypatch.setattr(alerts_services, "raise_alarm", fake.raise_alarm)
    return fake


def make(dedup: MemoryDedupStore, media: MediaStore) -> AlarmOutcome:
    return AlarmOutcome(
        bus=MemoryEventBus(), dedup=dedup, media=media, camera_cooldown_s=120, score_threshold=0.5
    )


async def fire(outcome: AlarmOutcome) -> int | None:
    return await outcome(camera=CAMERA, violation=VIOLATION, detections=[HEAD], image=IMAGE, at=T0)


async def test_alarm_carries_camera_source_type_and_stored_evidence(
    alerts: FakeAlerts, tmp_path: Path
) -> None:
    media = LocalMediaStore(tmp_path)
    assert await fire(make(MemoryDedupStore(), media)) == 1
    (call,) = alerts.calls
    assert call["source"] == "camera:CAM-0031-1" and call["alarm_type"] == "no_hardhat"
    assert call["site_code"] == "WL-2026-0031-S1" and call["severity"] == "major"
    assert "大门摄像头" in call["message"]
    assert (await media.get(call["evidence_ref"])).startswith(b"\xff\xd8")
    assert call["people"] == 1 and "帧" not in call["message"]  # frames may be seconds apart


def test_the_evidence_marks_the_offending_box_thick_and_the_others_thin() -> None:
    """Issue 16: the snapshot shows which box triggered the alarm."""
    import cv2  # noqa: PLC0415

    from vision_worker.evidence import render_evidence  # noqa: PLC0415

    grey = np.full((416, 416, 3), 128, dtype=np.uint8)
    helmet = Detection("helmet", 0.9, (250.0, 250.0, 290.0, 290.0))
    other_head = Detection("head", 0.3, (300.0, 100.0, 340.0, 140.0))
    jpeg = render_evidence(
        grey, [HEAD, helmet, other_head], camera_code="CAM-1", camera_name="", at=T0, offenders=[HEAD]
    )
    picture = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None

    def red(x: int, y: int) -> bool:
        blue, green, r = (int(v) for v in picture[y, x])
        return r > 200 and blue < 80 and green < 80

    # Two pixels either side of the left edge: inside a 6-px line, outside a 2-px line.
    assert red(98, 120) and red(102, 120)
    assert not red(298, 120) and not red(302, 120)


async def test_two_workers_sharing_the_dedup_store_raise_once(alerts: FakeAlerts, tmp_path: Path) -> None:
    dedup, media = MemoryDedupStore(), LocalMediaStore(tmp_path)
    results = await asyncio.gather(fire(make(dedup, media)), fire(make(dedup, media)))
    assert sorted(results, key=lambda r: r is None) == [1, None]
    assert len(alerts.calls) == 1


async def test_a_failed_alarm_does_not_start_the_cooldown(alerts: FakeAlerts, tmp_path: Path) -> None:
    outcome = make(MemoryDedupStore(), LocalMediaStore(tmp_path))
    alerts.fail_with = RuntimeError("database down")
    with pytest.raises(RuntimeError):
        await fire(outcome)
    alerts.fail_with = None
    assert await fire(outcome) == 2


async def test_a_cancelled_alarm_keeps_the_cooldown(alerts: FakeAlerts, tmp_path: Path) -> None:
    outcome = make(MemoryDedupStore(), LocalMediaStore(tmp_path))
    alerts.fail_with = asyncio.CancelledError()
    with pytest.raises(asyncio.CancelledError):
        await fire(outcome)
    alerts.fail_with = None
    assert await fire(outcome) is None  # the new owner must not raise it a second time


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_worker_killed_mid_raise_holds_the_camera_back_only_briefly(
    alerts: FakeAlerts, tmp_path: Path
) -> None:
    """SIGKILL between the cooldown and the alarm used to silence the camera for the whole cooldown
    (found by the fault soak's reasoning: the key outlived the process that never raised)."""
    clock = Clock()
    dedup, media = MemoryDedupStore(clock), LocalMediaStore(tmp_path)
    alerts.fail_with = asyncio.CancelledError()  # the killed worker's raise never completes
    with pytest.raises(asyncio.CancelledError):
        await fire(make(dedup, media))
    alerts.fail_with = None
    successor = make(dedup, media)
    assert await fire(successor) is None  # the raise may be in flight: not at once
    clock.now += RAISE_CLAIM_S + 1
    assert await fire(successor) == 2  # well before the 120 s cooldown


async def test_a_raised_alarm_keeps_the_full_cooldown(alerts: FakeAlerts, tmp_path: Path) -> None:
    clock = Clock()
    outcome = make(MemoryDedupStore(clock), LocalMediaStore(tmp_path))
    assert await fire(outcome) == 1
    clock.now += RAISE_CLAIM_S + 1
    assert await fire(outcome) is None
    clock.now += 120
    assert await fire(outcome) == 2
