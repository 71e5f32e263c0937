"""Worker capacity and live camera settings, with in-process ports (no Redis, no model)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

import pytest

from adapters.memory import MemoryCache, MemoryEventBus, MemoryLock
from config.settings import Settings
from domain.vision.events import UploadedFrame
from domain.vision.rules import Detection, ViolationConfig
from domain.vision.services import CameraInfo, CameraUnowned, accept_frame, fleet_capacity
from tests.unit.test_vision_pipeline import RecordingSink, ScriptedDetector, camera, noisy_frame
from vision_worker.config import PipelineConfig, WorkerConfig, worker_config
from vision_worker.pipeline import CameraPipeline, Frame, InferencePool
from vision_worker.worker import VisionWorker

T0 = dt.datetime(2026, 5, 1, 2, 0, tzinfo=dt.UTC)


def test_the_per_worker_camera_limit_comes_from_settings() -> None:
    assert worker_config(Settings(vision_max_cameras_per_worker=200)).max_cameras == 200
    assert worker_config(Settings()).max_cameras == 64


def _two_camera_worker(
    cams: list[CameraInfo], *, bus: MemoryEventBus, lock: MemoryLock, cache: MemoryCache
) -> tuple[InferencePool, VisionWorker]:
    """A worker allowed 2 cameras that lists ``cams`` (changed in place by the test) at every tick."""

    async def lister() -> list[CameraInfo]:
        return cams

    pool = InferencePool([ScriptedDetector(detections=[])])
    worker = VisionWorker(
        worker_id="w1",
        bus=bus,
        lock=lock,
        cache=cache,
        cameras=lister,
        pool=pool,
        sink=RecordingSink(),
        config=WorkerConfig(max_cameras=2, rescan_s=0),
    )
    return pool, worker


async def test_cameras_over_the_workers_capacity_are_visible_and_refuse_uploads() -> None:
    lock, cache, bus = MemoryLock(), MemoryCache(), MemoryEventBus()
    cams = [camera(f"CAM-00{n}-1") for n in range(10, 15)]
    pool, worker = _two_camera_worker(cams, bus=bus, lock=lock, cache=cache)
    try:
        await worker.tick()
        assert len(worker.owned) == 2
        fleet = await fleet_capacity(cache, lock, cams)
        assert fleet.over_capacity and len(fleet.unowned) == 3 and fleet.capacity == 2
        assert fleet.to_dict()["workers"] == [{"worker_id": "w1", "owned": 2, "capacity": 2, "fair_share": 5}]
        assert fleet.workers_needed == 3

        owned, unowned = worker.owned[0], fleet.unowned[0]
        frame = UploadedFrame(owned, T0, "image/jpeg", b"\xff\xd8")
        assert await accept_frame(bus, frame, owners=lock)  # queued for its owner
        try:
            await accept_frame(bus, dataclasses.replace(frame, camera_code=unowned), owners=lock)
        except CameraUnowned as error:
            assert error.status == 503 and error.retry_after_s > 0
        else:
            raise AssertionError("a frame for an unowned camera was accepted")
    finally:
        await worker.shutdown(release=True)
        pool.close()


async def test_over_capacity_is_logged_when_the_share_changes_not_at_every_rescan(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cams = [camera(f"CAM-00{n}-1") for n in range(10, 15)]
    pool, worker = _two_camera_worker(cams, bus=MemoryEventBus(), lock=MemoryLock(), cache=MemoryCache())
    try:
        with caplog.at_level(logging.INFO, logger="vision_worker.worker"):
            for _ in range(3):
                await worker.tick()
            cams.append(camera("CAM-0016-1"))  # the share grows: said again
            await worker.tick()
            del cams[2:]  # back within the limit: said once
            await worker.tick()
            await worker.tick()
        said = [record.getMessage() for record in caplog.records if "capacity" in record.getMessage()]
        assert [("over" in line, "share is 5" in line or "share is 6" in line) for line in said] == [
            (True, True),
            (True, True),
            (False, False),
        ], said
    finally:
        await worker.shutdown(release=True)
        pool.close()


async def test_a_changed_camera_reaches_its_worker_at_the_next_rescan_without_a_restart() -> None:
    lock, cache = MemoryLock(), MemoryCache()
    cams = [camera("CAM-0031-1")]

    async def lister() -> list[CameraInfo]:
        return cams

    pool = InferencePool([ScriptedDetector(detections=[])])
    worker = VisionWorker(
        worker_id="w1",
        bus=MemoryEventBus(),
        lock=lock,
        cache=cache,
        cameras=lister,
        pool=pool,
        sink=RecordingSink(),
        config=WorkerConfig(rescan_s=0),
    )
    try:
        await worker.tick()
        before = worker.pipeline("CAM-0031-1")
        assert before is not None and before.camera.sample_fps == 0.0
        zone = ((0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0))
        cams[0] = dataclasses.replace(cams[0], sample_fps=2.0, score_threshold=0.6, work_zone=zone)
        await worker.tick()
        after = worker.pipeline("CAM-0031-1")
        assert after is not None and after is not before
        assert (after.camera.sample_fps, after.camera.score_threshold, after.camera.work_zone) == (
            2.0,
            0.6,
            zone,
        )
        assert worker.owned == ["CAM-0031-1"]  # lease kept: no other worker grabbed it meanwhile
    finally:
        await worker.shutdown(release=True)
        pool.close()


async def test_a_cameras_confidence_threshold_drops_weaker_detections_before_the_rule() -> None:
    weak = Detection("head", 0.45, (100.0, 100.0, 140.0, 140.0))
    config = PipelineConfig(motion_threshold=0, violation=ViolationConfig(min_frames=3, min_median_score=0.3))
    results = {}
    for threshold in (None, 0.6):
        pool, sink = InferencePool([ScriptedDetector(detections=[weak])]), RecordingSink()
        cam = dataclasses.replace(camera(), score_threshold=threshold)
        pipeline = CameraPipeline(cam, pool=pool, sink=sink, config=config, cache=MemoryCache(), owner="w")
        for index in range(5):
            await pipeline.process(Frame(at=T0 + dt.timedelta(seconds=index), image=noisy_frame(index)))
        pool.close()
        results[threshold] = len(sink.violations)
    assert results == {None: 1, 0.6: 0}
