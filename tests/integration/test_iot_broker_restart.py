"""Restarts in the middle of the stream lose no reading and no alarm, and count none twice.

Five dust monitors publish 40 minutes of readings each (the last 20 a PM10 spike) through a Mosquitto
of the test's own. The bridge is slowed down so that a backlog is waiting for it, at the broker and
inside the MQTT client, when

- the broker is restarted half-way through (devices keep a reading until the broker acknowledges it,
  as real ones do, so some readings arrive twice), or
- the bridge stops and a successor with the same client id takes over its session (what the bridge
  had received but not handled must come to the successor: it acknowledges only handled messages).

Afterwards every reading is counted exactly once, every minute is in the aggregates and every site
has exactly one alarm.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import uuid
from pathlib import Path

import aiomqtt
import pytest
import yaml

from adapters.config_files import load_rule_config
from adapters.infrastructure import Infrastructure
from domain.alerts.models import Alarm, MinuteAggregate
from domain.alerts.readings import DeviceInfo
from iot_bridge.bridge import Bridge, BridgeOptions
from iot_bridge.mqtt import MqttIngest, MqttTarget
from iot_bridge.simulate import json_payload, telemetry_topic
from tests.integration.iot_helpers import RULES, EnqueueRecorder, make_site, running, wait_for
from tests.integration.private_broker import PrivateBroker, private_broker

pytestmark = pytest.mark.skipif(shutil.which("mosquitto") is None, reason="mosquitto is not installed")

SITES = [f"WL-2026-01{n:02d}" for n in range(1, 6)]
MINUTES = 40
SPIKE_FROM = 20
RESTART_AFTER = 110  # of the 200 readings: during the spike
HANDLE_DELAY_S = 0.01  # the bridge handles ~100 msg/s while the devices publish faster (also under load)


def rules_for(sites: list[str], tmp_path: Path) -> Path:
    raw = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    tuned = {"min_samples_15m": 1, "min_samples_1h": 1, "pm10_15m": {"bands": {"warning": 150, "major": 300}}}
    raw["sites"] = {f"{code}-S1": {"defaults": {"hold_s": 120}, "dust": tuned} for code in sites}
    path = tmp_path / "restart_rules.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def dust_monitor(project_code: str) -> DeviceInfo:
    return DeviceInfo(f"WLDUST{project_code[-4:]}01", f"{project_code}-S1", "dust", 60)


def stream(root: str, start: dt.datetime) -> list[tuple[str, bytes]]:
    """Minute by minute, every monitor in turn: clean air, then the spike."""
    messages = []
    for minute in range(MINUTES):
        pm10 = 60.0 if minute < SPIKE_FROM else 420.0
        for code in SITES:
            device = dust_monitor(code)
            at = start + dt.timedelta(minutes=minute)
            messages.append(
                (telemetry_topic(root, device), json_payload({"pm10": pm10, "pm25": 30.0}, at=at))
            )
    return messages


class Devices:
    """Publishes like a device with a local buffer: a reading is dropped only once the broker has
    acknowledged it (QoS 1); on a lost connection it reconnects and sends the same reading again."""

    def __init__(self, url_port: int) -> None:
        self._port = url_port
        self.sent = 0
        self.retries = 0

    async def publish_all(self, messages: list[tuple[str, bytes]], *, on_sent: asyncio.Event) -> None:
        pending = list(messages)
        while pending:
            try:
                async with aiomqtt.Client("127.0.0.1", self._port, timeout=2) as client:
                    while pending:
                        topic, payload = pending[0]
                        await client.publish(topic, payload, qos=1)
                        pending.pop(0)
                        self.sent += 1
                        if self.sent == RESTART_AFTER:
                            on_sent.set()
            except aiomqtt.MqttError:
                self.retries += 1
                await asyncio.sleep(0.2)


class SlowIngest(MqttIngest):
    """Delays every message, so a backlog builds up behind the bridge."""

    async def handle(self, topic: str, payload: object) -> None:
        await asyncio.sleep(HANDLE_DELAY_S)
        await super().handle(topic, payload)


def bridge_on(
    broker: PrivateBroker, infra: Infrastructure, *, root: str, client_id: str, rules: Path, slow: bool
) -> Bridge:
    options = BridgeOptions(
        mqtt_url=broker.url,
        topic_root=root,
        hj212_port=None,
        rules=load_rule_config(rules),
        flush_interval_s=0.2,
    )
    bridge = Bridge(infra, options)
    ingest = SlowIngest if slow else MqttIngest
    bridge.mqtt = ingest(
        bridge.pipeline,
        target=MqttTarget.from_url(broker.url),
        devices=lambda: bridge.devices,
        root=root,
        client_id=client_id,
    )
    return bridge


async def until_counted(bridges: list[Bridge], expected: int) -> None:
    async def counted() -> bool:
        return sum(b.pipeline.stats["readings"] for b in bridges) >= expected

    await wait_for(counted, timeout_s=60, what=f"{expected} readings ({[b.pipeline.stats for b in bridges]})")
    await asyncio.sleep(0.5)  # let a late redelivery arrive before the counts are checked
    for bridge in bridges:
        await bridge.pipeline.drain()


async def assert_complete(stats: list[dict[str, int]], expected: int) -> None:
    assert sum(s.get("readings", 0) for s in stats) == expected, repr(stats)
    assert not any(s.get("handle_errors") for s in stats), stats
    for code in SITES:
        device = dust_monitor(code)
        alarms = await Alarm.filter(source=device.code, alarm_type="dust_pm10_15m").count()
        assert alarms == 1, f"{device.code}: {alarms} alarms"
        rows = await MinuteAggregate.filter(device_code=device.code, metric="pm10").values("count")
        assert sum(int(row["count"]) for row in rows) == MINUTES, f"{device.code}: {rows}"


async def prepare() -> tuple[str, list[tuple[str, bytes]]]:
    for code in SITES:
        await make_site(f"{code}-S1", project_code=code)
    root = f"restart{uuid.uuid4().hex[:8]}"
    start = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(minutes=MINUTES + 5)
    return root, stream(root, start)


async def test_a_broker_restart_mid_stream_loses_nothing_and_counts_nothing_twice(
    database: str, outbox: EnqueueRecorder, infra: Infrastructure, tmp_path: Path
) -> None:
    root, messages = await prepare()
    rules = rules_for(SITES, tmp_path)
    async with private_broker(tmp_path / "broker") as broker:
        client_id = f"wl-b-{uuid.uuid4().hex[:6]}"
        bridge = bridge_on(broker, infra, root=root, client_id=client_id, rules=rules, slow=True)
        async with running(bridge):
            devices = Devices(broker.port)
            halfway = asyncio.Event()
            publishing = asyncio.create_task(devices.publish_all(messages, on_sent=halfway))
            await asyncio.wait_for(halfway.wait(), 30)
            assert bridge.pipeline.stats["readings"] < RESTART_AFTER, "no backlog: the test proves nothing"
            await broker.restart(down_s=1.0)
            await asyncio.wait_for(publishing, 60)
            await until_counted([bridge], len(messages))
            assert bridge.mqtt is not None and bridge.mqtt.connections >= 2
            assert devices.retries >= 1
    await assert_complete([dict(bridge.pipeline.stats)], len(messages))


async def test_a_successor_bridge_gets_what_its_predecessor_had_not_handled(
    database: str, outbox: EnqueueRecorder, infra: Infrastructure, tmp_path: Path
) -> None:
    root, messages = await prepare()
    rules = rules_for(SITES, tmp_path)
    client_id = f"wl-b-{uuid.uuid4().hex[:6]}"  # a stable id per process, as IOT_CLIENT_ID sets it
    async with private_broker(tmp_path / "broker") as broker:
        first = bridge_on(broker, infra, root=root, client_id=client_id, rules=rules, slow=True)
        async with running(first):
            await Devices(broker.port).publish_all(messages, on_sent=asyncio.Event())
            handled_by_first = first.pipeline.stats["readings"]
            assert handled_by_first < len(messages) // 2, "no backlog: the test proves nothing"
        second = bridge_on(broker, infra, root=root, client_id=client_id, rules=rules, slow=False)
        async with running(second):
            await until_counted([first, second], len(messages))
    assert second.pipeline.stats["readings"] > 0
    await assert_complete([dict(first.pipeline.stats), dict(second.pipeline.stats)], len(messages))
