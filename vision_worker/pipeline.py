"""Per-camera pipeline: bounded queue → sampling → decode + motion gate → detector → tracker → rule.

Everything CPU-heavy (JPEG decoding, the motion gate, inference, evidence rendering) runs in threads,
never on the event loop. The queue keeps only the newest frames: when inference falls behind, the
oldest waiting frame is dropped (and acknowledged, so it is not redelivered) and counted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from domain.ports import Cache
from domain.vision.events import CameraHealth
from domain.vision.rules import (
    Detection,
    IouTracker,
    NightWork,
    NightWorkRule,
    NoHardhatRule,
    Track,
    Violation,
)
from domain.vision.services import CameraInfo, save_health
from vision_worker.config import PipelineConfig
from vision_worker.detector import Detector
from vision_worker.motion import MotionGate

log = logging.getLogger(__name__)
Image = npt.NDArray[np.uint8]
Done = Callable[[], Awaitable[None]]
HEALTH_FLUSH_S = 2.0


@dataclass(frozen=True, slots=True)
class Frame:
    """A frame from any source: decoded (streams) or still encoded (uploads, decoded in a thread).
    ``done`` acknowledges it at the source once processed or dropped."""

    at: dt.datetime
    image: Image | None = None
    data: bytes | None = None
    done: Done | None = None


class ViolationSink(Protocol):
    async def __call__(
        self,
        *,
        camera: CameraInfo,
        violation: Violation,
        detections: Sequence[Detection],
        image: Image,
        at: dt.datetime,
    ) -> int | None: ...


class NightWorkSink(Protocol):
    async def __call__(
        self,
        *,
        camera: CameraInfo,
        night: NightWork,
        detections: Sequence[Detection],
        image: Image,
        at: dt.datetime,
    ) -> int | None: ...


def init_cpu_thread() -> None:
    # OpenCV's own thread pool would fight onnxruntime and the API for the same cores.
    cv2.setNumThreads(1)


class InferenceService(Protocol):
    """What a camera pipeline needs: a detector to await and a thread for decoding."""

    @property
    def cpu(self) -> Executor: ...

    async def detect(self, image: Image) -> list[Detection]: ...

    def close(self) -> None: ...


class InferencePool:
    """One thread per detector (each with its own session and input buffer), shared by cameras."""

    def __init__(self, detectors: Sequence[Detector]) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=len(detectors), thread_name_prefix="vision-infer", initializer=init_cpu_thread
        )
        self._idle: asyncio.Queue[Detector] = asyncio.Queue()
        for detector in detectors:
            self._idle.put_nowait(detector)
        self.cpu = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="vision-cpu", initializer=init_cpu_thread
        )

    async def detect(self, image: Image) -> list[Detection]:
        detector = await self._idle.get()
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, detector.detect, image)
        finally:
            self._idle.put_nowait(detector)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.cpu.shutdown(wait=False, cancel_futures=True)


class FrameQueue:
    """Newest-wins bounded queue: putting into a full queue evicts (and returns) the oldest frame."""

    def __init__(self, size: int) -> None:
        self._frames: deque[Frame] = deque()
        self._size = size
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._frames)

    def put(self, frame: Frame) -> Frame | None:
        evicted = self._frames.popleft() if len(self._frames) >= self._size else None
        self._frames.append(frame)
        self._ready.set()
        return evicted

    async def get(self) -> Frame:
        while not self._frames:
            self._ready.clear()
            await self._ready.wait()
        return self._frames.popleft()


def _decode_and_gate(frame: Frame, gate: MotionGate | None) -> tuple[Image | None, bool]:
    image = frame.image
    if image is None and frame.data is not None:
        decoded = cv2.imdecode(np.frombuffer(frame.data, dtype=np.uint8), cv2.IMREAD_COLOR)
        image = None if decoded is None else np.asarray(decoded, dtype=np.uint8)
    if image is None:
        return None, False
    return image, True if gate is None else gate.has_motion(image)


class CameraPipeline:
    def __init__(
        self,
        camera: CameraInfo,
        *,
        pool: InferenceService,
        sink: ViolationSink,
        config: PipelineConfig,
        cache: Cache,
        owner: str,
        night_sink: NightWorkSink | None = None,
    ) -> None:
        self.camera = camera
        self._pool = pool
        self._sink = sink
        self._night_sink = night_sink
        self._night_rule = NightWorkRule(config.night_work, zone=camera.work_zone)
        self._config = config
        self._cache = cache
        self._queue = FrameQueue(config.queue_size)
        self._gate = MotionGate(threshold=config.motion_threshold) if config.motion_threshold > 0 else None
        self._tracker = IouTracker(config.tracker)
        self._rule = NoHardhatRule(config.violation, zone=camera.work_zone)
        self._last_sampled: dt.datetime | None = None
        self._last_inference: dt.datetime | None = None
        self.health = CameraHealth(camera_code=camera.code, owner=owner, source_state="starting")
        self._fps_window: deque[float] = deque(maxlen=30)
        self._last_flush = 0.0
        self._flushed: CameraHealth | None = None

    # --- intake ---------------------------------------------------------------------------------
    async def offer(self, frame: Frame) -> None:
        """Never blocks on inference. Frames over the sampling rate are skipped; a full queue drops."""
        if not self._sampled(frame.at):
            await _finish(frame)
            return
        evicted = self._queue.put(frame)
        if evicted is not None:
            self._count(drops=1)
            await _finish(evicted)

    def room(self) -> int:
        """Free places in the queue: pull-based sources read no more than this."""
        return self._config.queue_size - len(self._queue)

    def _sampled(self, at: dt.datetime) -> bool:
        if self.camera.sample_fps <= 0 or self._last_sampled is None:
            self._last_sampled = at
            return True
        if (at - self._last_sampled).total_seconds() < 1 / self.camera.sample_fps - 1e-3:
            return False
        self._last_sampled = at
        return True

    def set_source_state(self, state: str) -> None:
        self.health = replace(self.health, source_state=state)

    # --- processing -----------------------------------------------------------------------------
    async def run(self) -> None:
        try:
            while True:
                try:
                    async with asyncio.timeout(HEALTH_FLUSH_S):
                        frame = await self._queue.get()
                except TimeoutError:
                    await self._maybe_flush()  # an idle camera still reports its last state
                    continue
                try:
                    await self.process(frame)
                except Exception:
                    log.exception("camera %s: frame failed", self.camera.code)
                    self._count(errors=1)
                finally:
                    await _finish(frame)
                await self._maybe_flush()
        finally:
            while len(self._queue):
                await _finish(await self._queue.get())

    async def process(self, frame: Frame) -> Violation | None:
        loop = asyncio.get_running_loop()
        image, moved = await loop.run_in_executor(self._pool.cpu, _decode_and_gate, frame, self._gate)
        if image is None:
            self._count(errors=1)
            return None
        self._fps_window.append(frame.at.timestamp())  # capture rate, not processing rate
        self._count(frames=1, last_frame_at=frame.at)
        if not moved and not self._refresh_due(frame.at):
            self._count(motion_skips=1)
            return None
        self._last_inference = frame.at
        detections = await self._pool.detect(image)
        self._count(inferences=1)
        floor = self.camera.score_threshold
        if floor is not None:  # on top of the detector's own floor: a camera can only be stricter
            detections = [d for d in detections if d.score >= floor]
        if detections:
            summary = ", ".join(f"{d.label} {d.score:.2f}" for d in detections[:5])
            self.health = replace(self.health, last_detection_at=frame.at.isoformat(), last_detection=summary)
        matches = self._tracker.update(detections)
        height, width = image.shape[:2]
        await self._judge_night_work(matches, detections, image=image, at=frame.at)
        violation = self._rule.observe(matches, width=width, height=height, now=frame.at.timestamp())
        if violation is None:
            return None
        alarm_id = await self._sink(
            camera=self.camera, violation=violation, detections=detections, image=image, at=frame.at
        )
        if alarm_id is not None:
            self.health = replace(self.health, last_alarm_at=frame.at.isoformat())
            await self.flush()
        return violation

    async def _judge_night_work(
        self,
        matches: Sequence[tuple[Track, Detection]],
        detections: Sequence[Detection],
        *,
        image: Image,
        at: dt.datetime,
    ) -> None:
        if self._night_sink is None:
            return
        height, width = image.shape[:2]
        night = self._night_rule.observe(matches, width=width, height=height, at=at)
        if night is None:
            return
        alarm_id = await self._night_sink(
            camera=self.camera, night=night, detections=detections, image=image, at=at
        )
        if alarm_id is not None:
            self._night_rule.raised(at)
            self.health = replace(self.health, last_alarm_at=at.isoformat())

    def _refresh_due(self, at: dt.datetime) -> bool:
        last = self._last_inference
        return last is None or (at - last).total_seconds() >= self._config.motion_refresh_s

    # --- health ---------------------------------------------------------------------------------
    def _count(self, *, last_frame_at: dt.datetime | None = None, **increments: int) -> None:
        values: dict[str, Any] = {
            name: getattr(self.health, name) + amount for name, amount in increments.items()
        }
        if last_frame_at is not None:
            values["last_frame_at"] = last_frame_at.isoformat()
        self.health = replace(self.health, **values)

    async def _maybe_flush(self) -> None:
        if self.health != self._flushed and time.monotonic() - self._last_flush >= HEALTH_FLUSH_S:
            await self.flush()

    async def flush(self) -> None:
        self._last_flush = time.monotonic()
        window = list(self._fps_window)
        fps = (
            (len(window) - 1) / (window[-1] - window[0])
            if len(window) > 1 and window[-1] > window[0]
            else 0.0
        )
        self.health = replace(self.health, fps=round(fps, 2))
        await save_health(self._cache, self.health)
        self._flushed = self.health


async def _finish(frame: Frame) -> None:
    if frame.done is not None:
        await frame.done()
