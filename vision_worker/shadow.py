"""Shadow mode: a candidate model runs beside the current one on live frames, never alarming.

``ShadowInference`` wraps the worker's inference service (``InferencePool`` or ``BatchingInference``)
and is a drop-in for it. Its ``detect`` returns the current model's detections as soon as they are
known, exactly as before; only then does it hand the same frame (so: after the motion gate, only
frames the current model really inferred) to the shadow detector, in a thread of its own, as a
background task. The shadow's answer feeds the agreement tally and nothing else: it never reaches a
tracker, a rule or a sink. A shadow failure is logged and counted, never raised.

Cost: each sampled frame is inferred twice. ``sample_fraction`` (``VISION_SHADOW_SAMPLE_FRACTION``)
bounds it; at most ``max_pending`` shadow inferences wait at once and further frames are skipped
(counted as ``busy_skips``) rather than queued, so a slow shadow cannot grow memory or lag behind.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass

from domain.ports import Cache, Lock
from domain.vision.rules import Detection
from domain.vision.shadow import ShadowTally, compare, merge_tally
from vision_worker.detector import Detector, Image
from vision_worker.pipeline import InferenceService, init_cpu_thread

log = logging.getLogger(__name__)
ERROR_LOG_EVERY = 100  # a broken shadow model would otherwise log once per frame


@dataclass(frozen=True, slots=True)
class ShadowConfig:
    shadow_version: str
    current_version: str
    sample_fraction: float = 1.0
    max_pending: int = 2
    flush_s: float = 10.0  # how often this worker adds its figures to the shared tally


class ShadowInference:
    """``InferenceService`` whose answers are the current model's; the shadow only gets compared."""

    def __init__(
        self,
        current: InferenceService,
        shadow: Detector,
        *,
        config: ShadowConfig,
        cache: Cache,
        lock: Lock,
        owner: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._current = current
        self._shadow = shadow
        self.config = config
        self._cache, self._lock, self._owner = cache, lock, owner
        self._clock = clock
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="vision-shadow", initializer=init_cpu_thread
        )
        self._pending: set[asyncio.Task[None]] = set()
        self._flushing: asyncio.Task[bool] | None = None
        self._credit = 0.0
        self._last_flush = clock()
        self._errors = 0
        self.unflushed = ShadowTally(config.shadow_version, config.current_version)

    @property
    def cpu(self) -> Executor:
        return self._current.cpu

    async def detect(self, image: Image) -> list[Detection]:
        detections = await self._current.detect(image)
        self._offer(image, detections)
        return detections

    def _offer(self, image: Image, detections: list[Detection]) -> None:
        if not self._sampled():
            self.unflushed = self.unflushed.count(sampled_out=1)
        elif len(self._pending) >= self.config.max_pending:
            self.unflushed = self.unflushed.count(busy_skips=1)
        else:
            task = asyncio.create_task(self._run(image, list(detections)), name="vision-shadow")
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
        self._schedule_flush()

    def _sampled(self) -> bool:
        # Error diffusion instead of a random draw: exactly the configured share, and reproducible.
        self._credit += self.config.sample_fraction
        if self._credit >= 1.0 - 1e-9:
            self._credit -= 1.0
            return True
        return False

    async def _run(self, image: Image, current: list[Detection]) -> None:
        loop = asyncio.get_running_loop()
        try:
            shadow = await loop.run_in_executor(self._executor, self._shadow.detect, image)
            agreement = compare(current, shadow)
        except Exception:
            self._errors += 1
            if self._errors % ERROR_LOG_EVERY == 1:
                log.exception(
                    "shadow model %s failed (%d failure(s) so far); the current model is unaffected",
                    self.config.shadow_version,
                    self._errors,
                )
            self.unflushed = self.unflushed.count(errors=1)
            return
        self.unflushed = self.unflushed.add(agreement)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        due = self._clock() - self._last_flush >= self.config.flush_s
        if due and (self._flushing is None or self._flushing.done()):
            self._flushing = asyncio.create_task(self.flush(), name="vision-shadow-flush")

    async def flush(self) -> bool:
        """Add this worker's figures to the shared tally; kept for the next flush if that fails."""
        self._last_flush = self._clock()
        delta = self.unflushed
        self.unflushed = ShadowTally(self.config.shadow_version, self.config.current_version)
        try:
            merged = await merge_tally(self._cache, self._lock, delta, owner=self._owner)
        except Exception:
            log.exception(
                "shadow model %s: figures not stored, kept for the next flush", delta.shadow_version
            )
            merged = False
        if not merged:
            self.unflushed = delta.merge(self.unflushed)
        return merged

    async def drain(self) -> None:
        """Wait for the shadow inferences already started (tests, and a clean stop)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def aclose(self, *, timeout_s: float = 5.0) -> None:
        """Finish what was started and store the figures, each step bounded, then close."""
        try:
            async with asyncio.timeout(timeout_s):
                await self.drain()
                if self._flushing is not None:
                    await asyncio.gather(self._flushing, return_exceptions=True)
                await self.flush()
        except TimeoutError:
            log.warning(
                "shadow model %s: final figures not stored within %.1f s",
                self.config.shadow_version,
                timeout_s,
            )
        finally:
            self.close()

    def close(self) -> None:
        for task in self._pending:
            task.cancel()
        if self._flushing is not None:
            self._flushing.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._current.close()
