"""Pipeline and worker behaviour with a scripted detector and in-process ports."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from adapters.memory import MemoryCache, MemoryEventBus, MemoryLock
from domain.vision.events import FRAME_GROUP, UploadedFrame, frame_stream
from domain.vision.rules import Detection, Violation, ViolationConfig
from domain.vision.services import CameraInfo, accept_frame, load_health
from vision_worker.config import PipelineConfig, WorkerConfig
from vision_worker.evidence import render_evidence
from vision_worker.motion import MotionGate
from vision_worker.pipeline import CameraPipeline, Done, Frame, InferencePool
from vision_worker.sources import _read_stream, stream_source
from vision_worker.worker import VisionWorker, lease_name

T0 = dt.datetime(2026, 5, 1, 2, 0, tzinfo=dt.UTC)
BARE_HEAD = Detection("head", 0.9, (100.0, 100.0, 140.0, 140.0))


class ScriptedDetector:
    def __init__(self, detections: Sequence[Detection] = (BARE_HEAD,), delay_s: float = 0.0) -> None:
        self.detections = list(detections)
        self.delay_s = delay_s
        self.calls = 0
        self.threads: set[str] = set()

    def detect(self, image: np.ndarray) -> list[Detection]:
        self.calls += 1
        self.threads.add(threading.current_thread().name)
        if self.delay_s:
            time.sleep(self.delay_s)
        return list(self.detections)


class RecordingSink:
    def __init__(self) -> None:
        self.violations: list[tuple[str, Violation]] = []

    async def __call__(self, *, camera: CameraInfo, violation: Violation, **_: object) -> int | None:
        self.violations.append((camera.code, violation))
        return len(self.violations)


def camera(code: str = "CAM-0031-1", sample_fps: float = 0.0) -> CameraInfo:
    return CameraInfo(code, "1号塔吊东侧", "WL-2026-0031-S1", "", sample_fps, None, True)


def noisy_frame(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (240, 320, 3), dtype=np.uint8)


async def test_confirmed_bare_head_reaches_the_sink_once_and_inference_runs_off_loop() -> None:
    detector, sink = ScriptedDetector(), RecordingSink()
    pool = InferencePool([detector])
    config = PipelineConfig(motion_threshold=0, violation=ViolationConfig(min_frames=3))
    pipeline = CameraPipeline(camera(), pool=pool, sink=sink, config=config, cache=MemoryCache(), owner="w1")
    for index in range(6):
        await pipeline.process(Frame(at=T0 + dt.timedelta(seconds=index), image=noisy_frame(index)))
    pool.close()
    assert len(sink.violations) == 1
    assert all(name.startswith("vision-infer") for name in detector.threads)
    assert pipeline.health.inferences == 6


async def test_motion_gate_skips_static_frames_but_refreshes_periodically() -> None:
    detector = ScriptedDetector(detections=[])
    pool = InferencePool([detector])
    config = PipelineConfig(motion_refresh_s=10)
    pipeline = CameraPipeline(
        camera(), pool=pool, sink=RecordingSink(), config=config, cache=MemoryCache(), owner="w"
    )
    still = noisy_frame(1)
    for index in range(30):
        await pipeline.process(Frame(at=T0 + dt.timedelta(seconds=index), image=still))
    pool.close()
    assert detector.calls == 3  # t=0 (first frame), t=10, t=20
    assert pipeline.health.motion_skips == 27


async def test_sampling_rate_skips_frames_between_samples() -> None:
    pool = InferencePool([ScriptedDetector(detections=[])])
    pipeline = CameraPipeline(
        camera(sample_fps=1.0),
        pool=pool,
        sink=RecordingSink(),
        config=PipelineConfig(),
        cache=MemoryCache(),
        owner="w",
    )
    for index in range(10):
        await pipeline.offer(Frame(at=T0 + dt.timedelta(milliseconds=250 * index), image=noisy_frame(index)))
    pool.close()
    assert pipeline.room() == 0  # 3 sampled (t=0, 1, 2 s) into a queue of 2: one dropped
    assert pipeline.health.drops == 1


async def test_slow_detector_keeps_memory_bounded_and_counts_drops() -> None:
    detector = ScriptedDetector(detections=[], delay_s=0.05)
    pool = InferencePool([detector])
    cache = MemoryCache()
    config = PipelineConfig(queue_size=2, motion_threshold=0)
    pipeline = CameraPipeline(
        camera(), pool=pool, sink=RecordingSink(), config=config, cache=cache, owner="w"
    )
    acked: list[int] = []

    def done(index: int) -> Done:
        async def ack() -> None:
            acked.append(index)

        return ack

    runner = asyncio.create_task(pipeline.run())
    for index in range(100):
        await pipeline.offer(
            Frame(at=T0 + dt.timedelta(seconds=index), image=noisy_frame(0), done=done(index))
        )
        assert pipeline.room() >= 0
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.2)
    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)
    await pipeline.flush()
    pool.close()
    health = await load_health(cache, "CAM-0031-1")
    assert health.drops > 50 and detector.calls < 30
    assert health.drops + detector.calls == 100
    assert sorted(acked) == list(range(100))  # dropped frames are acknowledged too: nothing redelivered


async def test_corrupt_uploaded_bytes_count_an_error_and_the_camera_continues() -> None:
    pool = InferencePool([ScriptedDetector(detections=[])])
    config = PipelineConfig(motion_threshold=0)
    pipeline = CameraPipeline(
        camera(), pool=pool, sink=RecordingSink(), config=config, cache=MemoryCache(), owner="w"
    )
    assert await pipeline.process(Frame(at=T0, data=b"\xff\xd8\xff not a jpeg")) is None
    _ok, jpeg = cv2.imencode(".jpg", noisy_frame(3))
    await pipeline.process(Frame(at=T0, data=jpeg.tobytes()))
    pool.close()
    assert pipeline.health.errors == 1 and pipeline.health.inferences == 1


def test_motion_gate_sees_a_moving_block_not_noise() -> None:
    gate = MotionGate(threshold=0.004)
    base = np.full((480, 640, 3), 120, dtype=np.uint8)
    assert gate.has_motion(base)  # first frame
    assert not gate.has_motion(base.copy())
    moved = base.copy()
    moved[100:200, 100:200] = 250
    assert gate.has_motion(moved)


def test_evidence_is_a_jpeg_with_the_overlay() -> None:
    image = np.zeros((416, 416, 3), dtype=np.uint8)
    jpeg = render_evidence(image, [BARE_HEAD], camera_code="CAM-0031-1", camera_name="1号塔吊东侧", at=T0)
    assert jpeg.startswith(b"\xff\xd8")
    decoded = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None
    assert decoded.shape == (416, 416, 3)
    assert decoded[100:141, 100, 2].mean() > 150  # red box edge over the bare head
    assert decoded[5:18, :200].max() > 200  # header text drawn


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_two_workers_split_cameras_and_a_dead_workers_cameras_are_taken_over() -> None:
    clock = Clock()
    lock, cache, bus = MemoryLock(clock), MemoryCache(clock), MemoryEventBus(clock)
    cams = [camera(f"CAM-00{n}-1") for n in range(10, 14)]

    async def lister() -> list[CameraInfo]:
        return cams

    pool = InferencePool([ScriptedDetector(detections=[])])
    config = WorkerConfig(lease_ttl_s=15, heartbeat_s=5, rescan_s=0)

    def worker(name: str) -> VisionWorker:
        return VisionWorker(
            worker_id=name,
            bus=bus,
            lock=lock,
            cache=cache,
            cameras=lister,
            pool=pool,
            sink=RecordingSink(),
            config=config,
        )

    a, b = worker("a"), worker("b")
    await a.tick()
    assert len(a.owned) == 4  # alone: everything
    await b.tick()
    await a.tick()  # sees two live workers: releases its excess
    await b.tick()
    assert len(a.owned) == 2 and len(b.owned) == 2
    assert not set(a.owned) & set(b.owned)
    for code in a.owned:
        assert await lock.owner(lease_name(code)) == "a"

    await a.shutdown(release=False)  # crash: leases are left to expire
    clock.now += 5
    await b.tick()
    assert len(b.owned) == 2  # a's leases still live
    clock.now += 11
    await b.tick()
    assert len(b.owned) == 4
    await b.shutdown(release=True)
    pool.close()


async def test_uploaded_frames_flow_from_the_stream_and_are_acknowledged() -> None:
    bus, cache, lock = MemoryEventBus(), MemoryCache(), MemoryLock()
    cam = camera()
    sink = RecordingSink()

    async def lister() -> list[CameraInfo]:
        return [cam]

    pool = InferencePool([ScriptedDetector()])
    config = WorkerConfig(
        pipeline=PipelineConfig(motion_threshold=0, violation=ViolationConfig(min_frames=3))
    )
    worker = VisionWorker(
        worker_id="w", bus=bus, lock=lock, cache=cache, cameras=lister, pool=pool, sink=sink, config=config
    )
    await worker.tick()
    _ok, jpeg = cv2.imencode(".jpg", noisy_frame(5))
    for index in range(4):
        frame = UploadedFrame(cam.code, T0 + dt.timedelta(seconds=index), "image/jpeg", jpeg.tobytes())
        await accept_frame(bus, frame)
    for _ in range(100):
        if await bus.pending_count(frame_stream(cam.code), FRAME_GROUP) == 0 and sink.violations:
            break
        await asyncio.sleep(0.02)
    await worker.shutdown(release=True)
    pool.close()
    assert len(sink.violations) == 1
    assert await bus.pending_count(frame_stream(cam.code), FRAME_GROUP) == 0


async def test_video_file_source_feeds_frames_and_a_dead_url_backs_off(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 25.0, (320, 240))
    for index in range(50):
        writer.write(noisy_frame(index))
    writer.release()
    pool = InferencePool([ScriptedDetector(detections=[])])
    config = PipelineConfig(motion_threshold=0)
    live = CameraPipeline(
        camera(sample_fps=5.0), pool=pool, sink=RecordingSink(), config=config, cache=MemoryCache(), owner="w"
    )
    dead_camera = CameraInfo("CAM-DEAD-1", "dead", "S", "rtsp://127.0.0.1:9/none", 1.0, None, True)
    dead = CameraPipeline(
        dead_camera, pool=pool, sink=RecordingSink(), config=config, cache=MemoryCache(), owner="w"
    )
    tasks = [
        asyncio.create_task(live.run()),
        asyncio.create_task(stream_source(str(path), live, backoff=(0.05, 0.2))),
        asyncio.create_task(stream_source(dead_camera.stream_url, dead, backoff=(0.05, 0.2))),
    ]
    for _ in range(100):
        if live.health.inferences >= 3 and dead.health.source_state == "reconnecting":
            break
        await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    pool.close()
    assert live.health.inferences >= 3
    assert dead.health.source_state == "reconnecting" and dead.health.frames == 0


@pytest.mark.parametrize("openable", [False, True])
def test_a_stream_reader_that_outlives_its_loop_ends_quietly(tmp_path: Path, openable: bool) -> None:
    """The worker waits for a stream's thread only so long (an open or a grab on a dead RTSP link can
    block longer). Once the loop is closed, the thread has no one to tell: it ends, and raises
    nothing (it raised "Event loop is closed" into the next test's output)."""
    path = tmp_path / "clip.avi"
    if openable:
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 25.0, (320, 240))
        writer.write(noisy_frame(0))
        writer.release()
    told: list[str] = []
    pipeline = SimpleNamespace(camera=camera(sample_fps=5.0), set_source_state=told.append)
    closed = asyncio.new_event_loop()
    closed.close()
    stop = threading.Event()
    _read_stream(str(path), pipeline=pipeline, loop=closed, stop=stop, backoff=(0.01, 0.02))  # type: ignore[arg-type]
    assert told == [] and not stop.is_set()  # it returned by itself, without being stopped


async def test_a_cameras_zone_and_threshold_decide_where_and_how_sure_it_alarms() -> None:
    """Per-camera settings reach the rule: a bare head outside the work zone (the site office on the
    right half) or under the camera's own threshold raises nothing; inside and sure enough, it does."""
    right_half = ((0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0))
    config = PipelineConfig(motion_threshold=0, violation=ViolationConfig(min_frames=3))
    outcomes = {}
    for name, zone, threshold in (
        ("outside zone", right_half, None),
        ("under threshold", None, 0.95),
        ("inside, sure", None, 0.85),
    ):
        detector, sink = ScriptedDetector(), RecordingSink()  # a 0.9 bare head on the left
        settings = CameraInfo("CAM-0031-1", "东侧", "WL-2026-0031-S1", "", 0.0, zone, True, threshold)
        pool = InferencePool([detector])
        pipeline = CameraPipeline(
            settings, pool=pool, sink=sink, config=config, cache=MemoryCache(), owner="w"
        )
        for index in range(5):
            await pipeline.process(Frame(at=T0 + dt.timedelta(seconds=index), image=noisy_frame(index)))
        pool.close()
        outcomes[name] = len(sink.violations)
    assert outcomes == {"outside zone": 0, "under threshold": 0, "inside, sure": 1}
