"""Issue 16 on the real database: a demo start with no readings stays quiet, repeated violation counts
one device and one rule, a late backlog never closes a live alarm, alarms never close before they
were raised, camera alarms clear by themselves, messages are plain Chinese, and the device life
cycle is listed for staff."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
from collections.abc import AsyncIterator
from pathlib import Path

from adapters.config_files import load_rule_config
from adapters.infrastructure import Infrastructure
from adapters.memory import MemoryEventBus
from config.seed import seed_demo_data
from domain.alerts import camera, readings, services
from domain.alerts.device_health import device_health
from domain.alerts.engine import RuleEngine
from domain.alerts.models import Alarm
from domain.alerts.readings import AggregateRow
from domain.alerts.rules import CameraClearPolicy
from domain.alerts.telemetry import Reading, make_reading
from iot_bridge.pipeline import Pipeline
from iot_bridge.storage import RingRawSink
from tests.integration.iot_helpers import RULES, EnqueueRecorder, fast_rules, make_site

SITE = "WL-2026-0031-S1"
DUST = "WLDUST003101"


@contextlib.asynccontextmanager
async def pipeline_of(infra: Infrastructure, rules: Path = RULES) -> AsyncIterator[Pipeline]:
    pipeline = Pipeline(
        engine=RuleEngine(load_rule_config(rules)), bus=infra.bus, cache=infra.cache, raw_sink=RingRawSink()
    )
    workers = asyncio.create_task(pipeline.run_alarm_workers())
    try:
        yield pipeline
    finally:
        workers.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await workers


async def test_demo_seed_with_no_readings_raises_no_alarm(
    database: str, outbox: EnqueueRecorder, infra: Infrastructure, tmp_path: Path
) -> None:
    """``make run`` before any reading: 184 alarms and 48 messages in 4 minutes, now none."""
    await seed_demo_data(tmp_path)
    devices = await readings.registered_devices()
    assert len(devices) > 100
    start = dt.datetime.now(dt.UTC)
    async with pipeline_of(infra) as pipeline:
        for seconds in (0, 30, 300, 330, 600, 3600, 4 * 3600):
            await pipeline.check_offline(devices, now=start + dt.timedelta(seconds=seconds))
        await pipeline.drain()
    assert await Alarm.all().count() == 0
    assert outbox.calls == []
    listed = await device_health(now=start)
    assert listed["counts"]["not_commissioned"] == len(devices)


async def test_a_device_that_reported_and_went_silent_makes_one_site_alarm(
    database: str, outbox: EnqueueRecorder, infra: Infrastructure
) -> None:
    await make_site()
    devices = await readings.registered_devices()
    start = dt.datetime.now(dt.UTC)
    minute = start.replace(second=0, microsecond=0) - dt.timedelta(hours=1)
    await readings.store_aggregates(
        [AggregateRow(SITE, code, "pm10", minute, 1, 50, 50, 50, 1, 50) for code in devices]
    )
    async with pipeline_of(infra) as pipeline:
        for seconds in (0, 300, 330, 360):
            await pipeline.check_offline(devices, now=start + dt.timedelta(seconds=seconds))
        await pipeline.drain()
    alarms = await Alarm.all()
    assert [(a.source, a.alarm_type, a.value) for a in alarms] == [(f"site:{SITE}", "device_offline", 3)]
    assert "3 台监测设备" in alarms[0].message and DUST in alarms[0].message


async def _raise(bus: MemoryEventBus, source: str, at: dt.datetime) -> int:
    return await services.raise_alarm(
        bus=bus,
        source=source,
        alarm_type="dust_pm10_1h",
        severity="warning",
        site_code=SITE,
        value=180,
        limit=150,
        message="",
        at=at,
    )


async def test_repeated_violation_counts_one_device_and_one_rule(
    database: str, outbox: EnqueueRecorder
) -> None:
    await make_site()
    bus = MemoryEventBus()
    t0 = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
    for n, source in enumerate(("WLDUST003101", "WLDUST003102", "WLDUST003103")):
        at = t0 + dt.timedelta(minutes=10 * n)
        await _raise(bus, source, at)
        await services.clear_alarm(bus=bus, source=source, alarm_type="dust_pm10_1h", at=at)
    assert not await Alarm.exists(alarm_type="repeated_violation")  # three devices, not a repeat
    for n in range(2):
        at = t0 + dt.timedelta(hours=1, minutes=10 * n)
        await _raise(bus, "WLDUST003101", at)
        await services.clear_alarm(bus=bus, source="WLDUST003101", alarm_type="dust_pm10_1h", at=at)
    repeated = await Alarm.filter(alarm_type="repeated_violation")
    assert [(a.source, a.value) for a in repeated] == [("WLDUST003101:dust_pm10_1h", 3)]
    assert "24 小时内已发生 3 次" in repeated[0].message


async def test_a_late_backlog_never_closes_a_live_alarm(
    database: str, outbox: EnqueueRecorder, infra: Infrastructure, tmp_path: Path
) -> None:
    """Live PM10 alarm; 12 clean readings from an hour earlier; the next current reading."""
    await make_site()
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)

    def reading(at: dt.datetime, pm10: float) -> Reading:
        return make_reading(
            device_code=DUST, site_code=SITE, device_type="dust", at=at, raw={"pm10": (pm10, "N")}
        )

    async with pipeline_of(infra, fast_rules(tmp_path)) as pipeline:
        for m in range(5):
            await pipeline.submit(reading(now - dt.timedelta(minutes=5 - m), 400))
        await pipeline.drain()
        live = await Alarm.get(source=DUST, alarm_type="dust_pm10_15m")
        for m in range(12):
            await pipeline.submit(reading(now - dt.timedelta(minutes=65 - m), 20))
        await pipeline.drain()
        await live.refresh_from_db()
        assert live.state.value == "raised" and live.closed_at is None
        await pipeline.submit(reading(now, 400))
        await pipeline.drain()
    assert await Alarm.filter(source=DUST, alarm_type="dust_pm10_15m").count() == 1
    assert all(a.closed_at is None or a.closed_at >= a.raised_at for a in await Alarm.all())


async def test_an_alarm_never_closes_before_it_was_raised(database: str, outbox: EnqueueRecorder) -> None:
    await make_site()
    bus = MemoryEventBus()
    raised_at = dt.datetime(2026, 11, 24, 3, 0, tzinfo=dt.UTC)
    alarm_id = await _raise(bus, DUST, raised_at)
    await services.clear_alarm(
        bus=bus, source=DUST, alarm_type="dust_pm10_1h", at=raised_at - dt.timedelta(hours=1)
    )
    alarm = await Alarm.get(id=alarm_id)
    assert alarm.closed_at == raised_at


async def _camera_alarm(bus: MemoryEventBus, at: dt.datetime) -> int:
    return await services.raise_alarm(
        bus=bus,
        source="camera:CAM003101",
        alarm_type="no_hardhat",
        severity="major",
        site_code=SITE,
        value=0.81,
        limit=0.5,
        message="摄像头「东门」发现未佩戴安全帽人员（连续 3 帧，置信度中位数 0.81）",
        at=at,
        people=2,
    )


async def test_camera_alarm_message_is_plain_chinese(database: str, outbox: EnqueueRecorder) -> None:
    await make_site()
    from domain.alerts import bindings  # noqa: PLC0415

    t0 = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
    issued = await bindings.issue_binding_code(site_code=SITE, issued_by="staff:1", at=t0)
    await bindings.bind_site(openid="oManagerCam0000000001", code=issued["code"], at=t0)
    alarm = await Alarm.get(id=await _camera_alarm(MemoryEventBus(), t0))
    assert alarm.message == "识别到 2 人未戴安全帽，置信度 81%"
    [call] = outbox.calls
    assert "识别到 2 人未戴安全帽，置信度 81%" in call["text"]
    for wrong in ("帧", "当前值", "限值"):
        assert wrong not in call["text"]
    assert call["template"].data["detail"] == "2人未戴安全帽,置信度81%"


async def test_camera_alarm_clears_after_clean_inferences_or_quiet_time(
    database: str, outbox: EnqueueRecorder
) -> None:
    await make_site()
    bus = MemoryEventBus()
    policy = CameraClearPolicy(clean_inferences=3, quiet=dt.timedelta(minutes=10))
    t0 = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
    first = await _camera_alarm(bus, t0)
    clean = functools.partial(
        camera.report_clean, bus=bus, source="camera:CAM003101", alarm_type="no_hardhat", policy=policy
    )
    for s in range(2):
        assert await clean(at=t0 + dt.timedelta(seconds=10 * (s + 1))) is None
    await _camera_alarm(bus, t0 + dt.timedelta(seconds=30))  # seen again: the count starts over
    for s in range(2):
        assert await clean(at=t0 + dt.timedelta(seconds=40 + 10 * s)) is None
    assert await clean(at=t0 + dt.timedelta(seconds=60)) == first
    assert (await Alarm.get(id=first)).state.value == "cleared"

    second = await _camera_alarm(bus, t0 + dt.timedelta(hours=1))
    assert (
        await camera.clear_quiet_camera_alarms(
            bus=bus, now=t0 + dt.timedelta(hours=1, minutes=9), policy=policy
        )
        == []
    )
    cleared = await camera.clear_quiet_camera_alarms(
        bus=bus, now=t0 + dt.timedelta(hours=1, minutes=10), policy=policy
    )
    assert cleared == [second]


async def test_device_health_lists_the_life_cycle(database: str) -> None:
    await make_site()
    now = dt.datetime.now(dt.UTC)
    minute = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=1)
    await readings.store_aggregates([AggregateRow(SITE, DUST, "pm10", minute, 1, 50, 50, 50, 1, 50)])
    # A late batch for an earlier minute does not move the last report back.
    await readings.store_aggregates(
        [AggregateRow(SITE, DUST, "pm10", minute - dt.timedelta(hours=1), 1, 50, 50, 50, 1, 50)]
    )
    listed = await device_health(now=now, site_code=SITE)
    status = {item["device_code"]: item["status"] for item in listed["items"]}
    assert status == {
        DUST: "online",
        "WLNOISE003101": "not_commissioned",
        "WLCRANE003101": "not_commissioned",
    }
    assert (await readings.last_reports())[DUST] == minute.timestamp()
    later = await device_health(now=now + dt.timedelta(minutes=10), site_code=SITE)
    assert later["counts"] == {"not_commissioned": 2, "online": 0, "offline": 1}
