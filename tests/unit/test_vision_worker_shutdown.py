"""The worker's stop path: a cancelled worker always ends, even when Redis stalls mid-shutdown.

The e2e hang (issue 14 item 10): a worker cancelled while it was stopping a camera (lease lost, or
rebalancing under load) swallowed the cancellation in ``_stop_camera`` (``suppress(CancelledError)``
around the last health flush), so ``run()`` went on looping and ``gather(task)`` never returned.
Each test bounds its own waits with ``asyncio.timeout``: a regression fails instead of hanging.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from adapters.memory import MemoryCache, MemoryEventBus, MemoryLock
from domain.vision.services import CameraInfo
from tests.unit.test_vision_pipeline import RecordingSink, ScriptedDetector, camera
from vision_worker.config import WorkerConfig
from vision_worker.pipeline import InferencePool
from vision_worker.worker import VisionWorker, lease_name

GUARD_S = 10.0  # a hang guard, not a timing assertion: every wait below returns in milliseconds


class StallingCache(MemoryCache):
    """A cache whose writes hang once ``stall`` is set (a Redis that stopped answering)."""

    def __init__(self) -> None:
        super().__init__()
        self.stall = False
        self.entered = asyncio.Event()

    async def set(self, key: str, value: str, ttl_s: float | None = None) -> None:
        if self.stall:
            self.entered.set()
            await asyncio.Event().wait()
        await super().set(key, value, ttl_s)


@dataclass
class Rig:
    worker: VisionWorker
    lock: MemoryLock
    pool: InferencePool


@pytest.fixture
def rigs() -> Iterator[list[Rig]]:
    made: list[Rig] = []
    yield made
    for rig in made:
        rig.pool.close()


def make_worker(
    rigs: list[Rig], cache: StallingCache, cameras: list[CameraInfo], *, stop_timeout_s: float = 5.0
) -> Rig:
    async def lister() -> list[CameraInfo]:
        return list(cameras)

    lock, pool = MemoryLock(), InferencePool([ScriptedDetector(detections=[])])
    worker = VisionWorker(
        worker_id="w",
        bus=MemoryEventBus(),
        lock=lock,
        cache=cache,
        cameras=lister,
        pool=pool,
        sink=RecordingSink(),
        config=WorkerConfig(heartbeat_s=0.01, rescan_s=0, stop_timeout_s=stop_timeout_s),
    )
    rigs.append(Rig(worker, lock, pool))
    return rigs[-1]


async def wait_until_owned(worker: VisionWorker, count: int) -> None:
    async with asyncio.timeout(GUARD_S):
        for _ in range(int(GUARD_S / 0.01)):
            if len(worker.owned) == count:
                return
            await asyncio.sleep(0.01)


async def test_a_worker_cancelled_while_stopping_a_camera_ends(rigs: list[Rig]) -> None:
    cache, cameras = StallingCache(), [camera("CAM-0031-1")]
    worker = make_worker(rigs, cache, cameras).worker
    task = asyncio.create_task(worker.run())
    await wait_until_owned(worker, 1)
    cache.stall = True
    cameras.clear()  # the camera is disabled: the next rescan stops it and flushes its health
    async with asyncio.timeout(GUARD_S):
        await cache.entered.wait()
    task.cancel()
    async with asyncio.timeout(GUARD_S):
        await asyncio.gather(task, return_exceptions=True)
    assert task.done() and worker.owned == []


async def test_shutdown_is_bounded_when_the_cache_stops_answering(rigs: list[Rig]) -> None:
    cache, cameras = StallingCache(), [camera("CAM-0031-1"), camera("CAM-0031-2")]
    worker = make_worker(rigs, cache, cameras, stop_timeout_s=0.05).worker
    task = asyncio.create_task(worker.run())
    await wait_until_owned(worker, 2)
    cache.stall = True
    task.cancel()  # the final shutdown flushes each camera's health into a cache that never answers
    async with asyncio.timeout(GUARD_S):
        await asyncio.gather(task, return_exceptions=True)
    assert worker.owned == []


async def test_a_crashed_worker_stops_its_loop_and_keeps_its_leases(rigs: list[Rig]) -> None:
    cache, cameras = StallingCache(), [camera("CAM-0031-1")]
    rig = make_worker(rigs, cache, cameras)
    worker = rig.worker
    task = asyncio.create_task(worker.run())
    await wait_until_owned(worker, 1)
    async with asyncio.timeout(GUARD_S):
        await worker.shutdown(release=False)
        await task  # run() notices the stop and returns by itself: nothing left to cancel
    assert worker.owned == []
    assert await rig.lock.owner(lease_name("CAM-0031-1")) == "w"  # left to expire


async def test_shutdown_stops_its_cameras_together_not_one_after_another(rigs: list[Rig]) -> None:
    """The CI failure: a worker with several cameras took one stop bound per camera, in turn, and
    outlived the caller's guard. Stopped together, the stop costs one bound whatever the count."""
    cameras = [camera(f"CAM-0032-{n}") for n in range(1, 9)]
    cache = StallingCache()
    worker = make_worker(rigs, cache, cameras, stop_timeout_s=1.0).worker
    task = asyncio.create_task(worker.run())
    await wait_until_owned(worker, 8)
    cache.stall = True  # every camera's final health flush waits out its whole bound
    task.cancel()
    # Eight bounds in turn would be 8 s; together about 1 s. The guard sits well between the two.
    async with asyncio.timeout(4.0):
        await asyncio.gather(task, return_exceptions=True)
    assert worker.owned == []
