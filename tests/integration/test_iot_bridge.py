"""The bridge over the real Mosquitto (MQTT_URL) and a real HJ 212 socket: a simulated dust spike
becomes one alarm and a notification; acknowledge; the alarm clears after the hold time; the bridge
reconnects after its connection drops; two bridges on one shared subscription make no duplicates."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import uuid
from pathlib import Path
from typing import Any, cast

import aiomqtt
import pytest
import yaml

from adapters.config_files import load_rule_config
from adapters.infrastructure import Infrastructure
from domain.alerts import bindings, services
from domain.alerts.models import Alarm, MinuteAggregate
from domain.alerts.readings import DeviceInfo
from iot_bridge.bridge import Bridge, BridgeOptions
from iot_bridge.hj212 import FrameReader, decode_frame
from iot_bridge.mqtt import MqttTarget
from iot_bridge.simulate import hj212_frame, json_payload, telemetry_topic, values_for
from tests.integration.iot_helpers import EnqueueRecorder, fast_rules, make_site, running, wait_for

MANAGER = "oManager000000000001"
SITE = "WL-2026-0031-S1"
DUST = DeviceInfo("WLDUST003101", SITE, "dust", 60)


@pytest.fixture
def mqtt_url() -> str:
    url = os.environ.get("MQTT_URL")
    if not url:
        pytest.skip("MQTT_URL is not set: MQTT integration run skipped")
    return url


def options(tmp_path: Path, mqtt_url: str, root: str, **overrides: object) -> BridgeOptions:
    base = BridgeOptions(
        mqtt_url=mqtt_url,
        topic_root=root,
        hj212_host="127.0.0.1",
        hj212_port=0,
        rules=load_rule_config(fast_rules(tmp_path)),
        flush_interval_s=0.2,
    )
    for key, value in overrides.items():
        setattr(base, key, value)
    return base


async def publish_series(
    mqtt_url: str, root: str, series: list[tuple[dt.datetime, dict[str, float]]]
) -> None:
    target = MqttTarget.from_url(mqtt_url)
    async with aiomqtt.Client(target.host, target.port, protocol=aiomqtt.ProtocolVersion.V5) as client:
        for at, values in series:
            await client.publish(telemetry_topic(root, DUST), json_payload(values, at=at), qos=1)


def dust_series(
    start: dt.datetime, minutes: range, *, scenario: str
) -> list[tuple[dt.datetime, dict[str, float]]]:
    import random  # noqa: PLC0415

    rng = random.Random(1)
    return [
        (start + dt.timedelta(minutes=m), values_for(DUST, scenario=scenario, step=10, rng=rng))
        for m in minutes
    ]


async def test_dust_spike_alarm_notify_acknowledge_and_clear(
    database: str, mqtt_url: str, outbox: EnqueueRecorder, infra: Infrastructure, tmp_path: Path
) -> None:
    await make_site()
    code = await bindings.issue_binding_code(site_code=SITE, issued_by="staff:1", at=dt.datetime.now(dt.UTC))
    await bindings.bind_site(openid=MANAGER, code=code["code"], at=dt.datetime.now(dt.UTC))
    root = f"test{uuid.uuid4().hex[:8]}"
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=50)
    async with running(Bridge(infra, options(tmp_path, mqtt_url, root))) as bridge:
        await publish_series(mqtt_url, root, dust_series(start, range(0, 5), scenario="dust_spike"))

        async def raised() -> bool:
            return await Alarm.filter(source=DUST.code, alarm_type="dust_pm10_15m").exists()

        await wait_for(raised, what="the dust alarm")
        await wait_for(lambda: _at_least(bridge, 5), what="all spike readings")
        await bridge.pipeline.drain()
        alarm = await Alarm.get(source=DUST.code, alarm_type="dust_pm10_15m")
        assert alarm.severity.value == "major" and alarm.state.value == "raised"
        # One notification per alarm (PM10 15 min, PM10 1 h, PM2.5 ...), none for the repeats.
        assert {c["recipient_openid"] for c in outbox.calls} == {MANAGER}
        assert len(outbox.calls) == await Alarm.all().count()
        await services.acknowledge(alarm.id, actor="manager", openid=MANAGER, at=dt.datetime.now(dt.UTC))
        # Calm air afterwards: the 15-minute mean falls, then two minutes of hold clear the alarm.
        await publish_series(mqtt_url, root, dust_series(start, range(5, 40), scenario="normal"))

        async def cleared() -> bool:
            return (await Alarm.get(id=alarm.id)).state.value == "cleared"

        await wait_for(cleared, what="the alarm to clear")
        detail = await services.alarm_detail(alarm.id)
        kinds = [event["kind"] for event in cast(list[dict[str, Any]], detail["timeline"])]
        assert kinds[0] == "raised" and "acknowledged" in kinds and kinds[-1] == "cleared"
        assert await Alarm.filter(source=DUST.code, alarm_type="dust_pm10_15m").count() == 1
        await bridge.pipeline.flush(final=True)
        assert await MinuteAggregate.filter(device_code=DUST.code, metric="pm10").count() >= 40
        assert bridge.pipeline.stats["alarm_errors"] == 0


async def test_hj212_over_tcp_acks_and_quarantines_unknown_devices(
    database: str, outbox: EnqueueRecorder, infra: Infrastructure, tmp_path: Path
) -> None:
    await make_site()
    bridge = Bridge(infra, options(tmp_path, "", "unused"))
    async with running(bridge):
        reader, writer = await asyncio.open_connection("127.0.0.1", bridge.hj212.port)
        now = dt.datetime.now(dt.UTC)
        writer.write(hj212_frame(DUST, {"pm10": 55.0, "pm25": 20.0}, at=now, ack=True))
        unknown = DeviceInfo("WLDUST999901", "WL-2026-9999-S1", "dust", 60)
        writer.write(hj212_frame(unknown, {"pm10": 55.0}, at=now) + b"##9999garbage\r\n")
        await writer.drain()
        reply = await asyncio.wait_for(reader.readuntil(b"\r\n"), 5)
        ack = decode_frame(reply)
        assert ack.cn == "9014" and ack.mn == DUST.code

        async def seen() -> bool:
            return bridge.pipeline.stats["readings"] == 1 and "WLDUST999901" in bridge.pipeline.quarantine

        await wait_for(seen, what="the reading and the quarantine entry")
        assert bridge.pipeline.stats["hj212_rejected_too_large"] >= 1
        writer.close()
    assert FrameReader().feed(reply) == [ack]


async def test_reconnects_after_the_connection_drops(
    database: str, mqtt_url: str, outbox: EnqueueRecorder, infra: Infrastructure, tmp_path: Path
) -> None:
    await make_site()
    root = f"test{uuid.uuid4().hex[:8]}"
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    async with running(Bridge(infra, options(tmp_path, mqtt_url, root))) as bridge:
        assert bridge.mqtt is not None and bridge.mqtt.client is not None
        await publish_series(mqtt_url, root, dust_series(start, range(0, 2), scenario="normal"))
        await wait_for(lambda: _at_least(bridge, 2), what="first readings")
        # Drop the TCP connection under the client, as a broker restart or a network cut would.
        sock = cast(socket.socket, bridge.mqtt.client._client.socket())
        assert sock is not None
        sock.shutdown(socket.SHUT_RDWR)
        # Published while the bridge is away: the persistent session keeps them for it (QoS 1).
        await publish_series(mqtt_url, root, dust_series(start, range(2, 8), scenario="dust_spike"))
        await wait_for(lambda: _at_least(bridge, 8), timeout_s=20, what="readings after reconnect")
        assert bridge.mqtt.connections >= 2
        assert bridge.pipeline.stats["mqtt_disconnects"] >= 1

        async def raised() -> bool:
            return await Alarm.filter(source=DUST.code, alarm_type="dust_pm10_15m").exists()

        await wait_for(raised, what="the alarm after reconnect")


async def _at_least(bridge: Bridge, count: int) -> bool:
    return bridge.pipeline.stats["readings"] >= count


async def test_two_bridges_on_one_shared_subscription_make_no_duplicate_alarms(
    database: str, mqtt_url: str, outbox: EnqueueRecorder, infra: Infrastructure, tmp_path: Path
) -> None:
    await make_site()
    root = f"test{uuid.uuid4().hex[:8]}"
    group = f"g{uuid.uuid4().hex[:6]}"
    first = Bridge(infra, options(tmp_path, mqtt_url, root, shared_group=group, hj212_port=None))
    second = Bridge(infra, options(tmp_path, mqtt_url, root, shared_group=group, hj212_port=None))
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    async with running(first), running(second):
        await publish_series(mqtt_url, root, dust_series(start, range(0, 20), scenario="dust_spike"))

        async def all_in() -> bool:
            return first.pipeline.stats["readings"] + second.pipeline.stats["readings"] == 20

        await wait_for(all_in, what="all readings")
        await first.pipeline.drain()
        await second.pipeline.drain()
        # Each message went to exactly one of the two (shared subscription), and both got some.
        assert first.pipeline.stats["readings"] > 0 and second.pipeline.stats["readings"] > 0
    rows = await Alarm.filter(source=DUST.code).values_list("alarm_type", flat=True)
    assert len(rows) == len(set(rows)) >= 1


async def test_a_restarted_bridge_keeps_the_duration_state(
    database: str, mqtt_url: str, outbox: EnqueueRecorder, infra: Infrastructure, tmp_path: Path
) -> None:
    """'PM10 above 200 for 15 minutes' must not start over when the bridge restarts at minute 10."""
    await make_site()
    rules = yaml.safe_load(fast_rules(tmp_path).read_text(encoding="utf-8"))
    rules["sites"][SITE]["dust"]["pm10_1h"] = {"for_s": 900}
    path = tmp_path / "duration_rules.yml"
    path.write_text(yaml.safe_dump(rules), encoding="utf-8")
    root = f"test{uuid.uuid4().hex[:8]}"
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=40)
    spike = [(start + dt.timedelta(minutes=m), {"pm10": 250.0, "pm25": 20.0}) for m in range(0, 20)]
    async with running(
        Bridge(infra, options(tmp_path, mqtt_url, root, rules=load_rule_config(path)))
    ) as first:
        await publish_series(mqtt_url, root, spike[:10])
        await wait_for(lambda: _at_least(first, 10), what="the first ten minutes")
    assert not await Alarm.filter(source=DUST.code, alarm_type="dust_pm10_1h").exists()
    async with running(
        Bridge(infra, options(tmp_path, mqtt_url, root, rules=load_rule_config(path)))
    ) as second:
        await publish_series(mqtt_url, root, spike[10:16])
        await wait_for(lambda: _at_least(second, 6), what="minutes 10 to 15")
        await second.pipeline.drain()
    alarm = await Alarm.get(source=DUST.code, alarm_type="dust_pm10_1h")
    assert alarm.raised_at == spike[15][0]
