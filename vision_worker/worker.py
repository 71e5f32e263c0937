"""The vision worker: owns cameras through leases, runs one pipeline per owned camera.

Scale-out. Every worker holds a membership slot (a lease) so each can count the live workers; it
takes at most its fair share (ceil(cameras / workers)) and releases any excess, so N workers split
the cameras. Each camera lease is refreshed every heartbeat; a dead worker's leases expire after
``lease_ttl_s`` and the survivors, now with a bigger fair share, take its cameras over, together with
its unacknowledged uploaded frames (XAUTOCLAIM in the upload source).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from domain.ports import Cache, EventBus, Lock
from domain.vision.services import CameraInfo
from vision_worker.config import WorkerConfig
from vision_worker.pipeline import CameraPipeline, InferencePool, ViolationSink
from vision_worker.sources import stream_source, upload_source

log = logging.getLogger(__name__)
MAX_WORKERS = 32
CameraLister = Callable[[], Awaitable[Sequence[CameraInfo]]]


def lease_name(camera_code: str) -> str:
    return f"vision:camera:{camera_code}"


def _slot_name(index: int) -> str:
    return f"vision:worker-slot:{index}"


@dataclass(slots=True)
class _OwnedCamera:
    pipeline: CameraPipeline
    tasks: list[asyncio.Task[None]]


class VisionWorker:
    def __init__(
        self,
        *,
        worker_id: str,
        bus: EventBus,
        lock: Lock,
        cache: Cache,
        cameras: CameraLister,
        pool: InferencePool,
        sink: ViolationSink,
        config: WorkerConfig,
    ) -> None:
        self.worker_id = worker_id
        self._bus, self._lock, self._cache = bus, lock, cache
        self._cameras = cameras
        self._pool = pool
        self._sink = sink
        self._config = config
        self._owned: dict[str, _OwnedCamera] = {}
        self._slot: int | None = None
        self._next_rescan = 0.0

    @property
    def owned(self) -> list[str]:
        return sorted(self._owned)

    def pipeline(self, camera_code: str) -> CameraPipeline | None:
        owned = self._owned.get(camera_code)
        return owned.pipeline if owned else None

    async def run(self) -> None:
        try:
            while True:
                await self.tick()
                await asyncio.sleep(self._config.heartbeat_s)
        finally:
            await self.shutdown(release=True)

    async def tick(self) -> None:
        await self._heartbeat()
        if time.monotonic() >= self._next_rescan:
            self._next_rescan = time.monotonic() + self._config.rescan_s
            await self._rebalance()

    # --- membership and leases ------------------------------------------------------------------
    async def _heartbeat(self) -> None:
        ttl = self._config.lease_ttl_s
        if self._slot is None or not await self._lock.refresh(_slot_name(self._slot), self.worker_id, ttl):
            self._slot = None
            for index in range(MAX_WORKERS):
                if await self._lock.acquire(_slot_name(index), self.worker_id, ttl):
                    self._slot = index
                    break
        for code in list(self._owned):
            if not await self._lock.refresh(lease_name(code), self.worker_id, ttl):
                log.warning("worker %s lost the lease of camera %s", self.worker_id, code)
                await self._stop_camera(code, release=False)

    async def _live_workers(self) -> int:
        owners = [await self._lock.owner(_slot_name(index)) for index in range(MAX_WORKERS)]
        return max(1, sum(1 for owner in owners if owner is not None))

    async def _rebalance(self) -> None:
        cameras = {camera.code: camera for camera in await self._cameras()}
        for code in [code for code in self._owned if code not in cameras]:
            await self._stop_camera(code, release=True)  # disabled or removed
        share = min(self._config.max_cameras, math.ceil(len(cameras) / await self._live_workers()))
        for code in self.owned[share:]:
            await self._stop_camera(code, release=True)  # someone else's share now
        # A stable per-worker order spreads first grabs across workers instead of racing on one list.
        candidates = sorted(
            (code for code in cameras if code not in self._owned),
            key=lambda code: zlib.crc32(f"{self.worker_id}:{code}".encode()),
        )
        for code in candidates:
            if len(self._owned) >= share:
                break
            if await self._lock.acquire(lease_name(code), self.worker_id, self._config.lease_ttl_s):
                self._start_camera(cameras[code])

    # --- camera tasks ---------------------------------------------------------------------------
    def _start_camera(self, camera: CameraInfo) -> None:
        pipeline = CameraPipeline(
            camera,
            pool=self._pool,
            sink=self._sink,
            config=self._config.pipeline,
            cache=self._cache,
            owner=self.worker_id,
        )
        consumer = f"{self.worker_id}"
        tasks = [
            asyncio.create_task(pipeline.run(), name=f"vision-{camera.code}-pipeline"),
            asyncio.create_task(
                upload_source(self._bus, pipeline, consumer=consumer, claim_idle_s=self._config.claim_idle_s),
                name=f"vision-{camera.code}-uploads",
            ),
        ]
        if camera.stream_url:
            backoff = (self._config.reconnect_initial_s, self._config.reconnect_max_s)
            tasks.append(
                asyncio.create_task(
                    stream_source(camera.stream_url, pipeline, backoff=backoff),
                    name=f"vision-{camera.code}-stream",
                )
            )
        for task in tasks:
            task.add_done_callback(self._report_crash)
        self._owned[camera.code] = _OwnedCamera(pipeline, tasks)
        log.info("worker %s took camera %s", self.worker_id, camera.code)

    def _report_crash(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("vision task %s failed", task.get_name(), exc_info=task.exception())

    async def _stop_camera(self, code: str, *, release: bool) -> None:
        owned = self._owned.pop(code, None)
        if owned is None:
            return
        for task in owned.tasks:
            task.cancel()
        await asyncio.gather(*owned.tasks, return_exceptions=True)
        with contextlib.suppress(asyncio.CancelledError):
            await owned.pipeline.flush()
        if release:
            await self._lock.release(lease_name(code), self.worker_id)

    async def shutdown(self, *, release: bool) -> None:
        """Stop every camera; ``release=False`` simulates a crash (leases left to expire)."""
        for code in list(self._owned):
            await self._stop_camera(code, release=release)
        if release and self._slot is not None:
            await self._lock.release(_slot_name(self._slot), self.worker_id)
        self._slot = None
