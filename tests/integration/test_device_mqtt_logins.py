"""Device MQTT logins against a real Mosquitto: each device publishes under its own topic only, with
its own password only, and a retired device is locked out when the files are rewritten."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from pathlib import Path

import aiomqtt
import pytest

from domain.projects import device_credentials, registry
from domain.projects.device_credentials_rules import mosquitto_hash
from domain.projects.registry_rules import SheetKind
from tests.city_file import city_sheets
from tests.integration.private_broker import PrivateBroker

NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
BRIDGE_PASSWORD = "bridge-pw-123"


async def received_by_bridge(broker: PrivateBroker, publish: list[tuple[str, str, str]]) -> set[str]:
    """Publish (username, password, topic) as each device; return the topics the bridge got."""
    got: set[str] = set()
    async with aiomqtt.Client(
        "127.0.0.1", broker.port, username="bridge", password=BRIDGE_PASSWORD
    ) as bridge:
        await bridge.subscribe("wenling/#", qos=1)
        for username, password, topic in publish:
            async with aiomqtt.Client(
                "127.0.0.1", broker.port, username=username, password=password
            ) as device:
                await device.publish(topic, b'{"pm10": 80}', qos=1)
        with contextlib.suppress(TimeoutError):  # whatever arrived within 1.5 s is what got through
            async with asyncio.timeout(1.5):
                async for message in bridge.messages:
                    got.add(str(message.topic))
    return got


async def start_broker(tmp_path: Path) -> PrivateBroker:
    passwords, acl = await device_credentials.broker_files(
        bridge_username="bridge", bridge_password_hash=mosquitto_hash(BRIDGE_PASSWORD)
    )
    await asyncio.to_thread(tmp_path.mkdir, parents=True, exist_ok=True)
    (tmp_path / "passwd").write_text(passwords)
    (tmp_path / "acl").write_text(acl)
    extra = f"password_file {tmp_path / 'passwd'}\nacl_file {tmp_path / 'acl'}\n"
    broker = PrivateBroker(tmp_path / "broker", anonymous=False, extra_config=extra)
    await broker.start()
    return broker


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_device_publishes_only_its_own_topic_with_its_own_password(
    database: str, tmp_path: Path
) -> None:
    sheets = city_sheets(sites=2, devices_per_site=1)
    await registry.import_registry(sheets, actor="t", source="t", dry_run=False, now=NOW)
    first, second = (row[0] for row in sheets[SheetKind.DEVICES][1:3])
    one = await device_credentials.issue_mqtt_login(first, actor="staff:1", now=NOW)
    two = await device_credentials.issue_mqtt_login(second, actor="staff:1", now=NOW)
    broker = await start_broker(tmp_path)
    try:
        own, others = f"{one.topic}telemetry", f"{two.topic}telemetry"
        got = await received_by_bridge(
            broker, [(one.username, one.password, own), (one.username, one.password, others)]
        )
        assert got == {own}  # the write to the other device's topic was dropped by the ACL
        with pytest.raises(aiomqtt.MqttError):
            await received_by_bridge(broker, [(one.username, two.password, own)])
    finally:
        await broker.stop()
    await registry.retire_record(SheetKind.DEVICES, first, actor="staff:1", now=NOW)
    broker = await start_broker(tmp_path / "after-retire")
    try:
        with pytest.raises(aiomqtt.MqttError):
            await received_by_bridge(broker, [(one.username, one.password, own)])
    finally:
        await broker.stop()
