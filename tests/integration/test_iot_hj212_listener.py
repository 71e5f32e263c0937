"""The HJ 212 listener under abuse and with credentials: idle connections cannot lock real devices
out, one address cannot take the listener, it binds the configured host; a frame is answered (9014)
only once it is stored, and a wrong PW, an unknown MN or a future DataTime get no answer and land in
the quarantine, counted by reason."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.config_files import load_rule_config
from adapters.infrastructure import Infrastructure
from domain.alerts.models import MinuteAggregate
from domain.alerts.readings import DeviceInfo
from domain.errors import NotFound, ValidationFailed
from domain.iot.models import RawFrame
from domain.iot.rules import FrameStatus
from domain.iot.services import request_command
from domain.projects.services import set_device_password
from iot_bridge.bridge import Bridge, BridgeOptions, options_from
from iot_bridge.hj212 import decode_frame
from iot_bridge.simulate import hj212_frame
from iot_bridge.tcp import ListenerLimits
from tests.conftest import make_settings
from tests.integration.iot_helpers import EnqueueRecorder, fast_rules, make_site, running, wait_for

SITE = "WL-2026-0031-S1"
DUST = DeviceInfo("WLDUST003101", SITE, "dust", 60)


def bridge_with(infra: Infrastructure, tmp_path: Path, limits: ListenerLimits) -> Bridge:
    options = BridgeOptions(
        mqtt_url=None,
        hj212_host="127.0.0.1",
        hj212_port=0,
        hj212_limits=limits,
        rules=load_rule_config(fast_rules(tmp_path)),
        flush_interval_s=0.2,
    )
    return Bridge(infra, options)


@contextlib.asynccontextmanager
async def device_connection(port: int) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def acknowledged(port: int, frame: bytes, *, wait_s: float = 5.0) -> bool:
    """Sends one frame as a device does; True if a 9014 for it comes back within ``wait_s``."""
    async with device_connection(port) as (reader, writer):
        writer.write(frame)
        await writer.drain()
        try:
            line = await asyncio.wait_for(reader.readuntil(b"\r\n"), wait_s)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            return False
        return decode_frame(line).cn == "9014"


async def test_idle_connections_do_not_lock_a_real_device_out(
    database: str, outbox: EnqueueRecorder, infra: Infrastructure, tmp_path: Path
) -> None:
    await make_site(SITE)
    bridge = bridge_with(infra, tmp_path, ListenerLimits(max_connections=40, max_per_source=1000))
    async with running(bridge), contextlib.AsyncExitStack() as idle:
        port = bridge.hj212.port
        for _ in range(60):  # more idle connections than the listener takes
            await idle.enter_async_context(device_connection(port))
        await wait_for(
            lambda: asyncio.sleep(0, bridge.hj212.connection_count >= 40), what="the listener to fill up"
        )
        for n in range(5):
            at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=n)
            assert await acknowledged(port, hj212_frame(DUST, {"pm10": 50.0}, at=at, ack=True)), n
        assert bridge.pipeline.stats["hj212_evicted_unverified"] >= 5


async def test_one_address_cannot_take_more_than_its_share(
    database: str, outbox: EnqueueRecorder, infra: Infrastructure, tmp_path: Path
) -> None:
    bridge = bridge_with(infra, tmp_path, ListenerLimits(max_per_source=3))
    async with running(bridge), contextlib.AsyncExitStack() as held:
        port = bridge.hj212.port
        for _ in range(3):
            await held.enter_async_context(device_connection(port))
        async with device_connection(port) as (reader, _writer):
            assert await asyncio.wait_for(reader.read(100), 5) == b""  # closed at once
        assert bridge.pipeline.stats["hj212_refused_per_source"] == 1


async def test_a_connection_without_a_valid_frame_is_closed_after_seconds(
    database: str, outbox: EnqueueRecorder, infra: Infrastructure, tmp_path: Path
) -> None:
    bridge = bridge_with(infra, tmp_path, ListenerLimits(first_frame_timeout_s=0.5))
    async with running(bridge), device_connection(bridge.hj212.port) as (reader, writer):
        writer.write(b"##0010garbage!!\r\n")
        assert await asyncio.wait_for(reader.read(100), 10) == b""


def test_the_listener_binds_the_configured_host(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, host="10.1.2.3", app_mode="production")
    assert options_from(settings, mqtt_url=None).hj212_host == "10.1.2.3"
    own = make_settings(tmp_path, host="127.0.0.1", iot_hj212_host="192.168.7.1")
    assert options_from(own, mqtt_url=None).hj212_host == "192.168.7.1"


async def test_frames_not_stored_get_no_9014_and_are_quarantined(
    database: str, outbox: EnqueueRecorder, infra: Infrastructure, tmp_path: Path
) -> None:
    await make_site(SITE)
    await set_device_password(DUST.code, "s3cret-77")
    bridge = bridge_with(infra, tmp_path, ListenerLimits())
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    async with running(bridge):
        port = bridge.hj212.port
        wrong_pw = hj212_frame(DUST, {"pm10": 50.0}, at=now, ack=True, pw="123456")
        unknown = hj212_frame(DeviceInfo("WLDUST999901", SITE, "dust", 60), {"pm10": 50.0}, at=now, ack=True)
        future = hj212_frame(DUST, {"pm10": 50.0}, at=now + dt.timedelta(hours=5), ack=True, pw="s3cret-77")
        for frame in (wrong_pw, unknown, future):
            assert not await acknowledged(port, frame, wait_s=1.5)
        good = hj212_frame(DUST, {"pm10": 50.0}, at=now, ack=True, pw="s3cret-77")
        assert await acknowledged(port, good)
        stats = bridge.pipeline.stats
    assert stats["quarantined_bad_password"] == 1
    assert stats["quarantined_unknown_device"] == 1
    assert stats["quarantined_bad_timestamp"] == 1
    reasons = await RawFrame.filter(status=FrameStatus.QUARANTINED).values_list("reason", flat=True)
    assert sorted(str(r) for r in reasons) == ["bad_password", "bad_timestamp", "unknown_device"]
    rows = await MinuteAggregate.filter(device_code=DUST.code, metric="pm10").values("count")
    assert sum(int(r["count"]) for r in rows) == 1  # the good frame only, and it was stored before its 9014


async def test_staff_commands_reach_the_connected_device(
    database: str, outbox: EnqueueRecorder, infra: Infrastructure, tmp_path: Path
) -> None:
    await make_site(SITE)
    bridge = bridge_with(infra, tmp_path, ListenerLimits())
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with pytest.raises(NotFound):
        await request_command(infra.bus, mn="WLNOPE", command="time_sync", now=now)
    with pytest.raises(ValidationFailed):
        await request_command(infra.bus, mn=DUST.code, command="upload_interval", seconds=5, now=now)
    async with running(bridge), device_connection(bridge.hj212.port) as (reader, writer):
        writer.write(hj212_frame(DUST, {"pm10": 50.0}, at=now, ack=True, pw="654321"))
        assert decode_frame(await asyncio.wait_for(reader.readuntil(b"\r\n"), 5)).cn == "9014"
        await request_command(infra.bus, mn=DUST.code, command="time_sync", now=dt.datetime.now(dt.UTC))
        sync = decode_frame(await asyncio.wait_for(reader.readuntil(b"\r\n"), 10))
        await request_command(
            infra.bus, mn=DUST.code, command="upload_interval", seconds=60, now=dt.datetime.now(dt.UTC)
        )
        interval = decode_frame(await asyncio.wait_for(reader.readuntil(b"\r\n"), 10))
    assert (sync.cn, sync.mn, sync.pw) == ("1012", DUST.code, "654321") and len(sync.cp["SystemTime"]) == 14
    assert (interval.cn, interval.cp["RtdInterval"]) == ("1062", "60")
