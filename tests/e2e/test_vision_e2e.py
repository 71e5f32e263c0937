"""End to end with the real model and real Redis: uploaded frames → one alarm → WeChat notification
with evidence; two workers share cameras with no duplicate alarms, and a dead worker's are taken over.

The HTTP uploads go through the app first: the test client opens and closes the app's resources
around every request, so workers start once the frames wait in their Redis streams. The API accepts
frames only for a camera some worker owns (503 otherwise), so the camera's lease is placed first.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.infrastructure import Infrastructure
from adapters.media_store import MediaStore
from adapters.wechat.dispatcher import run_dispatcher
from config.app import create_app
from config.container import Runtime, build_infrastructure, close_database, init_tortoise, open_runtime
from config.settings import Settings
from domain.alerts.models import Alarm, SiteBinding
from domain.notifications.models import OutboxMessage
from domain.projects.models import Camera, Site
from domain.vision.events import FRAME_GROUP, UploadedFrame, camera_lease, frame_stream
from domain.vision.rules import ViolationConfig, camera_device_key
from domain.vision.services import accept_frame, load_health
from tests.conftest import make_settings
from tests.integration.test_vision_api import CAMERA, SITE, create_cameras
from tests.vision_frames import BARE_HEADS_SAMPLE, MODEL, frame_jpeg
from tests.wechat_stub.server import WeChatStub
from vision_worker.config import PipelineConfig, WorkerConfig
from vision_worker.service import build_worker
from vision_worker.worker import VisionWorker

SAMPLE = BARE_HEADS_SAMPLE  # five clear bare heads
pytestmark = pytest.mark.skipif(
    not SAMPLE.exists(), reason=f"shared model or samples absent at {MODEL.parent}"
)
OPENID = "oMANAGER0000000000000000099"
STOP_GUARD_S = 30.0  # stop paths are bounded by the worker's stop_timeout_s; this only catches a hang
T0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=1)


def worker_config() -> WorkerConfig:
    return WorkerConfig(
        lease_ttl_s=3.0,
        heartbeat_s=0.3,
        rescan_s=0.3,
        claim_idle_s=2.0,
        pipeline=PipelineConfig(violation=ViolationConfig(min_frames=3, camera_cooldown_s=300)),
    )


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout_s: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.2)


@pytest.fixture
async def settings(
    db_url: str, redis_url: str, key_prefix: str, tmp_path: Path, wechat_stub: WeChatStub
) -> Settings:
    await create_cameras(db_url)
    await init_tortoise(db_url)
    await SiteBinding.create(site_code=SITE, project_code="WL-2026-0099", openid=OPENID, bound_at=T0)
    await close_database()
    return make_settings(
        tmp_path,
        database_url=db_url,
        redis_url=redis_url,
        redis_key_prefix=key_prefix,
        wechat_api_base=wechat_stub.base_url,
        wechat_appid="wx-test",
        wechat_secret="s3cret",
    )


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    opened = await open_runtime(settings)
    yield opened
    await opened.close()


async def test_uploaded_bare_head_sequence_becomes_one_alarm_and_one_notification(
    settings: Settings, wechat_stub: WeChatStub
) -> None:
    # The camera's lease is already held under the worker's id (as after a restart with a stable id):
    # the API accepts frames only for a camera some worker owns, and the worker adopts its lease.
    infra, closers = build_infrastructure(settings)
    await infra.lock.acquire(camera_lease(CAMERA), "solo", 600)
    for close in closers:
        await close()
    app = create_app(settings)
    key = camera_device_key(settings.secret_key.get_secret_value().encode(), CAMERA)
    for index in range(6):
        _, response = await app.asgi_client.post(
            f"/api/v1/cameras/{CAMERA}/frames",
            headers={"Authorization": f"Device {key}"},
            files={"frame": ("f.jpg", frame_jpeg(index), "image/jpeg")},
            data={"captured_at": (T0 + dt.timedelta(seconds=index)).isoformat()},
        )
        assert response.status == 202, response.json
        # A corrupt frame in the middle is refused at the door; the sequence goes on.
        _, bad = await app.asgi_client.post(
            f"/api/v1/cameras/{CAMERA}/frames",
            headers={"Authorization": f"Device {key}"},
            files={"frame": ("f.jpg", b"\xff\xd8\xff\xe0garbage", "image/jpeg")},
        )
        assert bad.status == 400

    runtime = await open_runtime(settings)
    worker, pool = await build_worker(runtime, config=worker_config(), worker_id="solo")
    tasks = [asyncio.create_task(worker.run()), asyncio.create_task(run_dispatcher(runtime))]
    try:

        async def queued() -> bool:
            return await OutboxMessage.filter(recipient_openid=OPENID, category="alarm").exists()

        async def notified() -> bool:
            return any(message["openid"] == OPENID for message in wechat_stub.sent)

        await eventually(queued)  # the alarm reached the alerts context and its managers' outbox
        await eventually(notified, timeout_s=150)  # and the dispatcher delivered it
        await eventually(lambda: _processed(runtime, CAMERA, last=5, owner="solo"))
        alarms = await Alarm.filter(alarm_type="no_hardhat")
        assert len(alarms) == 1
        alarm = alarms[0]
        assert (alarm.source, alarm.site_code, alarm.severity.value) == (f"camera:{CAMERA}", SITE, "major")
        assert alarm.update_count <= 1  # raised once, not re-raised per frame
        assert alarm.evidence_ref is not None
        evidence = await runtime.media.get(alarm.evidence_ref)
        assert evidence.startswith(b"\xff\xd8") and len(evidence) > 10_000
        sent = [message for message in wechat_stub.sent if message["openid"] == OPENID]
        assert len(sent) == 1
        health = await load_health(runtime.infra.cache, CAMERA)
        assert health.frames == 6 and health.inferences >= 3 and health.last_alarm_at is not None
    finally:
        for task in tasks:
            task.cancel()
        # Bounded: the dispatcher drains an in-flight send before it stops.
        await asyncio.wait(tasks, timeout=15)
        pool.close()
        await runtime.close()


async def _processed(runtime: Runtime, code: str, *, last: int, owner: str) -> bool:
    """The camera's owner has processed (and reported) the frame captured at T0 + ``last`` s."""
    health = await load_health(runtime.infra.cache, code)
    expected = (T0 + dt.timedelta(seconds=last)).isoformat()
    return health.owner == owner and health.last_frame_at == expected


@dataclass
class SecondProcess:
    """Another worker's own Redis connections (as another process would have), same database."""

    settings: Settings
    infra: Infrastructure
    media: MediaStore


async def test_two_workers_split_cameras_without_duplicates_and_take_over_a_dead_one(
    settings: Settings, runtime: Runtime
) -> None:
    site = await Site.get(code=SITE)
    codes = [CAMERA, "CAM-0099-3", "CAM-0099-4", "CAM-0099-5"]
    for code in codes[1:]:
        await Camera.create(code=code, site=site, name=f"{code} 摄像头", sample_fps=1.0)
    other_infra, closers = build_infrastructure(settings)
    second = SecondProcess(settings, other_infra, runtime.media)
    a, pool_a = await build_worker(runtime, config=worker_config(), worker_id="worker-a")
    b, pool_b = await build_worker(second, config=worker_config(), worker_id="worker-b")
    task_a, task_b = asyncio.create_task(a.run()), asyncio.create_task(b.run())
    try:
        await eventually(lambda: _split(a, b, len(codes)), timeout_s=20)
        assert not set(a.owned) & set(b.owned)

        await _upload_sequence(runtime, codes, start=0)
        await eventually(lambda: _alarms_for(codes))
        first = {alarm.source: alarm.update_count for alarm in await Alarm.filter(alarm_type="no_hardhat")}
        assert len(first) == len(codes)  # one alarm per camera, whichever worker owned it

        # worker-a dies: no release, its leases just stop being refreshed; its loop ends by itself.
        async with asyncio.timeout(STOP_GUARD_S):
            await a.shutdown(release=False)
            await task_a
        await eventually(lambda: _owns_all(b, len(codes)), timeout_s=20)

        # Frames keep coming for every camera: b processes them, the shared cooldown holds.
        await _upload_sequence(runtime, codes, start=10)
        for code in codes:
            await eventually(functools.partial(_processed, runtime, code, last=14, owner="worker-b"))
            assert await runtime.infra.bus.pending_count(frame_stream(code), FRAME_GROUP) == 0
        after = {alarm.source: alarm.update_count for alarm in await Alarm.filter(alarm_type="no_hardhat")}
        assert after == first  # no duplicate alarms, no re-raise after the takeover
    finally:
        await _stop(task_a, task_b)
        pool_a.close()
        pool_b.close()
        async with asyncio.timeout(STOP_GUARD_S):
            for close in closers:
                await close()


async def _stop(*tasks: asyncio.Task[None]) -> None:
    """Cancel and wait, bounded: a worker that does not end fails the test instead of hanging it."""
    for task in tasks:
        task.cancel()
    _done, pending = await asyncio.wait(tasks, timeout=STOP_GUARD_S)
    assert not pending, f"worker task(s) still running after cancel: {pending}"


async def _split(a: VisionWorker, b: VisionWorker, total: int) -> bool:
    return len(a.owned) + len(b.owned) == total and abs(len(a.owned) - len(b.owned)) <= 1 and bool(a.owned)


async def _owns_all(worker: VisionWorker, total: int) -> bool:
    return len(worker.owned) == total


async def _upload_sequence(runtime: Runtime, codes: list[str], *, start: int) -> None:
    for index in range(start, start + 5):
        data = frame_jpeg(index)
        for code in codes:
            frame = UploadedFrame(code, T0 + dt.timedelta(seconds=index), "image/jpeg", data)
            await accept_frame(runtime.infra.bus, frame)


async def _alarms_for(codes: list[str]) -> bool:
    return await Alarm.filter(alarm_type="no_hardhat").count() == len(codes)
