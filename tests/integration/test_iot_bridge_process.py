"""The bridge as a city runs it, ``python -m config worker iot-bridge`` in a process of its own, stopped
in the middle of a minute: no reading the broker acknowledged may be missing from the minute
aggregates, whether the stop is graceful (SIGTERM: store, acknowledge, exit) or not (SIGKILL: what
was acknowledged was already stored; the rest comes again to the restarted bridge).

Three devices send 60 QoS 1 readings each, all stamped inside one minute that is still open when the
bridge stops (a few minutes ahead of the clock, so that the minute cannot complete during the test
whatever the time of day; a bridge that keeps the open minute only in memory loses it).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest
import redis.asyncio as redis

from config.settings import REPO_ROOT
from domain.alerts.models import MinuteAggregate
from tests.integration.iot_helpers import make_site, wait_for
from tests.integration.private_broker import PrivateBroker, private_broker

pytestmark = pytest.mark.skipif(shutil.which("mosquitto") is None, reason="mosquitto is not installed")

PROJECT = "WL-2026-0077"
SITE = f"{PROJECT}-S1"
# (device code, device type, the metric counted, the reading's body)
DEVICES = [
    ("WLDUST007701", "dust", "pm10", {"pm10": 60.0, "pm25": 30.0}),
    ("WLNOISE007701", "noise", "leq_db", {"leq_db": 52.0}),
    ("WLCRANE007701", "crane", "moment_pct", {"moment_pct": 40.0, "wind_mps": 2.0}),
]
PER_DEVICE = 60
TOTAL = PER_DEVICE * len(DEVICES)


class BridgeProcess:
    def __init__(self, *, db_url: str, broker: PrivateBroker, tmp_path: Path, client_id: str) -> None:
        self.log_path = tmp_path / f"bridge-{uuid.uuid4().hex[:6]}.log"
        self.redis_prefix = f"test:{uuid.uuid4().hex[:10]}:"
        self.env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "MQTT_URL": broker.url,
            "IOT_HJ212_PORT": "0",
            "IOT_CLIENT_ID": client_id,
            "DATA_DIR": str(tmp_path),
            "APP_MODE": "embedded",
            "LOG_LEVEL": "INFO",
            "REDIS_KEY_PREFIX": self.redis_prefix,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "config", "worker", "iot-bridge"],
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def start(self) -> None:
        connected = self.log().count("MQTT connected") if self.log_path.exists() else 0
        self.process = self._spawn()

        async def up() -> bool:
            assert self.process is not None
            assert self.process.poll() is None, f"the bridge exited: {self.log()}"
            return self.log().count("MQTT connected") > connected

        await wait_for(up, timeout_s=60, what="the bridge process to connect")

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def stop(self, sig: signal.Signals) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        code = await asyncio.to_thread(self.process.wait, 30)
        self.process = None
        return code


@contextlib.asynccontextmanager
async def bridge_process(
    db_url: str, broker: PrivateBroker, tmp_path: Path, client_id: str
) -> AsyncIterator[BridgeProcess]:
    bridge = BridgeProcess(db_url=db_url, broker=broker, tmp_path=tmp_path, client_id=client_id)
    try:
        yield bridge
    finally:
        if bridge.process is not None:
            bridge.process.kill()
            bridge.process.wait(10)
        await forget_keys(bridge.redis_prefix)


async def forget_keys(prefix: str) -> None:
    url = os.environ.get("REDIS_URL")
    if url:
        client = redis.from_url(url)
        try:
            keys = [key async for key in client.scan_iter(match=prefix + "*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()


async def publish_readings(broker: PrivateBroker) -> None:
    """Each ``publish`` returns once the broker has acknowledged the reading (QoS 1)."""
    minute = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(minutes=10)
    async with aiomqtt.Client("127.0.0.1", broker.port, timeout=10) as client:
        for second in range(PER_DEVICE):
            for code, kind, _metric, body in DEVICES:
                payload = json.dumps({**body, "ts": (minute + dt.timedelta(seconds=second)).timestamp()})
                await client.publish(f"wenling/{SITE}/{kind}/{code}/telemetry", payload, qos=1)


async def raw_stream_holds_all(bridge: BridgeProcess) -> None:
    """Waits until the bridge has taken every reading (its raw stream has them all, as in the fault
    report); without Redis, gives it a few flush intervals."""
    url = os.environ.get("REDIS_URL")
    if not url:
        await asyncio.sleep(4.0)
        return
    client = redis.from_url(url)
    try:

        async def all_in() -> bool:
            entries = await client.xrange(bridge.redis_prefix + "stream:iot.raw") or []
            taken = sum(len(json.loads((fields or {})[b"readings"])) for _id, fields in entries)
            return taken >= TOTAL

        await wait_for(all_in, timeout_s=30, what="all readings in the raw stream")
    finally:
        await client.aclose()
    await asyncio.sleep(1.0)


async def stored_readings() -> int:
    total = 0
    for code, _kind, metric, _body in DEVICES:
        rows = await MinuteAggregate.filter(device_code=code, metric=metric).values("count")
        total += sum(int(row["count"]) for row in rows)
    return total


def bridge_env_redis(bridge: BridgeProcess) -> None:
    if os.environ.get("REDIS_URL"):
        bridge.env["REDIS_URL"] = os.environ["REDIS_URL"]
    else:
        bridge.env.pop("REDIS_URL", None)


async def test_sigterm_mid_minute_stores_every_acknowledged_reading(database: str, tmp_path: Path) -> None:
    await make_site(SITE, project_code=PROJECT)
    async with (
        private_broker(tmp_path / "broker") as broker,
        bridge_process(database, broker, tmp_path, f"wl-b-{uuid.uuid4().hex[:6]}") as bridge,
    ):
        bridge_env_redis(bridge)
        await bridge.start()
        await publish_readings(broker)
        await raw_stream_holds_all(bridge)
        code = await bridge.stop(signal.SIGTERM)
        assert code == 0, bridge.log()
        assert await stored_readings() == TOTAL, bridge.log()


async def test_sigkill_mid_minute_loses_no_acknowledged_reading(database: str, tmp_path: Path) -> None:
    await make_site(SITE, project_code=PROJECT)
    client_id = f"wl-b-{uuid.uuid4().hex[:6]}"  # a stable id, so the restart resumes the session
    async with (
        private_broker(tmp_path / "broker") as broker,
        bridge_process(database, broker, tmp_path, client_id) as bridge,
    ):
        bridge_env_redis(bridge)
        await bridge.start()
        await publish_readings(broker)
        await raw_stream_holds_all(bridge)
        await bridge.stop(signal.SIGKILL)
        await bridge.start()

        async def complete() -> bool:
            return await stored_readings() >= TOTAL

        with contextlib.suppress(AssertionError):
            await wait_for(complete, timeout_s=10, what="every reading stored")
        assert await stored_readings() == TOTAL, bridge.log()
        assert await bridge.stop(signal.SIGTERM) == 0, bridge.log()
    assert await stored_readings() == TOTAL  # and none counted twice by the restart
