"""The vision worker: owns cameras through leases, runs one pipeline per owned camera.

Scale-out. Every worker holds a membership slot (a lease) so each can count the live workers; it
takes at most its fair share (ceil(cameras / workers)) and releases any excess, so N workers split
the cameras. Each camera lease is refreshed every heartbeat; a dead worker's leases expire after
``lease_ttl_s`` and the survivors, now with a bigger fair share, take its cameras over, together with
its unacknowledged uploaded frames (XAUTOCLAIM in the upload source).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import time
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from domain.ports import Cache, EventBus, Lock
from domain.vision.events import MAX_WORKERS, WorkerStatus, camera_lease, worker_slot
from domain.vision.services import CameraInfo, save_worker_status
from vision_worker.config import WorkerConfig
from vision_worker.pipeline import CameraPipeline, InferenceService, NightWorkSink, ViolationSink
from vision_worker.sources import stream_source, upload_source

log = logging.getLogger(__name__)
CameraLister = Callable[[], Awaitable[Sequence[CameraInfo]]]
lease_name = camera_lease
_slot_name = worker_slot


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
        pool: InferenceService,
        sink: ViolationSink,
        config: WorkerConfig,
        night_sink: NightWorkSink | None = None,
    ) -> None:
        self.worker_id = worker_id
        self._bus, self._lock, self._cache = bus, lock, cache
        self._cameras = cameras
        self._pool = pool
        self._sink = sink
        self._night_sink = night_sink
        self._config = config
        self._owned: dict[str, _OwnedCamera] = {}
        self._slot: int | None = None
        self._next_rescan = 0.0
        self._stopping = False
        self._over_capacity_logged: int | None = None  # the share last warned about

    @property
    def owned(self) -> list[str]:
        return sorted(self._owned)

    def pipeline(self, camera_code: str) -> CameraPipeline | None:
        owned = self._owned.get(camera_code)
        return owned.pipeline if owned else None

    async def run(self) -> None:
        """Until cancelled, or until ``shutdown`` (a simulated crash included) stops the worker."""
        try:
            while not self._stopping:
                await self.tick()
                await asyncio.sleep(self._config.heartbeat_s)
        finally:
            await self.shutdown(release=not self._stopping)

    async def tick(self) -> None:
        if self._stopping:
            return
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
        for code in [code for code, owned in self._owned.items() if owned.pipeline.camera != cameras[code]]:
            # Edited through the API (stream, sampling, threshold, zone): restart it, lease kept.
            log.info("worker %s: camera %s settings changed, restarting it", self.worker_id, code)
            await self._stop_camera(code, release=False)
            if not self._stopping:
                self._start_camera(cameras[code])
        fair_share = math.ceil(len(cameras) / await self._live_workers())
        share = min(self._config.max_cameras, fair_share)
        for code in self.owned[share:]:
            await self._stop_camera(code, release=True)  # someone else's share now
        await self._take(cameras, share)
        await self._report(fair_share)

    async def _report(self, fair_share: int) -> None:
        capacity = self._config.max_cameras
        self._log_capacity(fair_share, capacity)
        status = WorkerStatus(
            self.worker_id, len(self._owned), capacity, fair_share, dt.datetime.now(dt.UTC).isoformat()
        )
        ttl = max(self._config.lease_ttl_s, 2 * self._config.rescan_s)
        await save_worker_status(self._cache, status, ttl_s=ttl)

    def _log_capacity(self, fair_share: int, capacity: int) -> None:
        """Said when the share changes, not at every rescan (every 10 s, for as long as it lasts):
        the standing state is in the worker status, the capacity API and /readyz."""
        over = fair_share if fair_share > capacity else None
        if over == self._over_capacity_logged:
            return
        if over is not None:
            log.warning(
                "worker %s over capacity: its share is %d cameras, its limit %d; add vision workers",
                self.worker_id,
                fair_share,
                capacity,
            )
        else:
            log.info("worker %s back within capacity: its share is %d cameras", self.worker_id, fair_share)
        self._over_capacity_logged = over

    async def _take(self, cameras: dict[str, CameraInfo], share: int) -> None:
        # A stable per-worker order spreads first grabs across workers instead of racing on one list.
        candidates = sorted(
            (code for code in cameras if code not in self._owned),
            key=lambda code: zlib.crc32(f"{self.worker_id}:{code}".encode()),
        )
        for code in candidates:
            if len(self._owned) >= share:
                break
            lease, ttl = lease_name(code), self._config.lease_ttl_s
            # A lease already under this worker's id is its own (a restart under a stable id).
            if not (
                await self._lock.acquire(lease, self.worker_id, ttl)
                or await self._lock.refresh(lease, self.worker_id, ttl)
            ):
                continue
            if self._stopping:  # shutdown began while this tick was waiting on Redis
                await self._lock.release(lease_name(code), self.worker_id)
                break
            self._start_camera(cameras[code])

    # --- camera tasks ---------------------------------------------------------------------------
    def _start_camera(self, camera: CameraInfo) -> None:
        pipeline = CameraPipeline(
            camera,
            pool=self._pool,
            sink=self._sink,
            night_sink=self._night_sink,
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
        """Every await here is bounded (a stalled Redis must not hold a stop for ever) and none
        swallows a cancellation: a worker cancelled mid-stop must end, not loop on."""
        owned = self._owned.pop(code, None)
        if owned is None:
            return
        limit = self._config.stop_timeout_s
        for task in owned.tasks:
            task.cancel()
        _done, stuck = await asyncio.wait(owned.tasks, timeout=limit)
        if stuck:
            log.warning("camera %s: %d task(s) still stopping after %.1f s", code, len(stuck), limit)
        await _bounded(owned.pipeline.flush(), limit, f"camera {code}: final health flush")
        if release:
            await _bounded(
                self._lock.release(lease_name(code), self.worker_id), limit, f"camera {code}: release"
            )

    async def shutdown(self, *, release: bool) -> None:
        """Stop every camera and the run loop; ``release=False`` simulates a crash (leases left to
        expire)."""
        self._stopping = True
        # All cameras at once: each step is bounded by stop_timeout_s, so the whole stop is bounded by
        # a few of them whatever the number of cameras (one after another, 64 cameras took minutes).
        await asyncio.gather(*(self._stop_camera(code, release=release) for code in list(self._owned)))
        slot, self._slot = self._slot, None
        if release and slot is not None:
            await _bounded(
                self._lock.release(_slot_name(slot), self.worker_id),
                self._config.stop_timeout_s,
                "worker slot release",
            )


async def _bounded(step: Awaitable[object], limit_s: float, what: str) -> None:
    """Run one best-effort stop step: a timeout or an error is logged, a cancellation propagates."""
    try:
        async with asyncio.timeout(limit_s):
            await step
    except TimeoutError:
        log.warning("%s: no answer within %.1f s, given up", what, limit_s)
    except Exception:
        log.exception("%s failed", what)
