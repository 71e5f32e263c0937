"""One inference service per worker process, batching frames across cameras.

Each camera pipeline awaits ``detect(image)`` for one frame at a time, so the shared queue holds at
most one frame per camera; backpressure stays where it was, per camera: the pipeline's bounded queue
keeps the newest frames and counts what it drops (latest frame wins). The collector takes the first
waiting frame, then whatever else arrives within ``max_wait_s`` up to ``max_batch`` frames, and runs
them through the detector in one call on the inference thread. With one camera it adds at most
``max_wait_s``; with many it turns N runs into one, which is what a CPU's SIMD units and above all a
GPU are good at.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from domain.vision.rules import Detection
from vision_worker.detector import BatchDetector, Image
from vision_worker.pipeline import init_cpu_thread

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Request:
    image: Image
    result: asyncio.Future[list[Detection]]


@dataclass(slots=True)
class BatchStats:
    batches: int = 0
    frames: int = 0

    @property
    def mean_batch(self) -> float:
        return self.frames / self.batches if self.batches else 0.0


class BatchingInference:
    """Drop-in for ``InferencePool``: ``detect(image)``, ``cpu`` (decode thread) and ``close()``."""

    def __init__(self, detector: BatchDetector, *, max_batch: int, max_wait_s: float) -> None:
        self._detector = detector
        self._max_batch = max(1, max_batch)
        self._max_wait_s = max_wait_s
        self._queue: asyncio.Queue[_Request] = asyncio.Queue()
        self._collector: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="vision-infer", initializer=init_cpu_thread
        )
        self.cpu = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="vision-cpu", initializer=init_cpu_thread
        )
        self.stats = BatchStats()

    async def detect(self, image: Image) -> list[Detection]:
        if self._collector is None or self._collector.done():
            self._collector = asyncio.create_task(self._collect(), name="vision-batcher")
        result: asyncio.Future[list[Detection]] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Request(image, result))
        return await result  # a cancelled camera cancels its future; the batcher skips it

    async def _collect(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            deadline = loop.time() + self._max_wait_s
            while len(batch) < self._max_batch:
                try:
                    async with asyncio.timeout_at(deadline):
                        batch.append(await self._queue.get())
                except TimeoutError:
                    break
            live = [request for request in batch if not request.result.done()]
            if not live:
                continue
            images = [request.image for request in live]
            try:
                outcomes = await loop.run_in_executor(self._executor, self._detector.detect_batch, images)
            except Exception as error:  # one bad batch fails its frames, not the service
                log.exception("vision batch of %d failed", len(live))
                for request in live:
                    if not request.result.done():
                        request.result.set_exception(error)
                continue
            self.stats.batches += 1
            self.stats.frames += len(live)
            for request, detections in zip(live, outcomes, strict=True):
                if not request.result.done():
                    request.result.set_result(detections)

    def close(self) -> None:
        if self._collector is not None:
            self._collector.cancel()
        while not self._queue.empty():
            request = self._queue.get_nowait()
            if not request.result.done():
                request.result.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.cpu.shutdown(wait=False, cancel_futures=True)
