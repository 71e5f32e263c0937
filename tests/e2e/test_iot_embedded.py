"""Embedded mode (what ``make run`` starts): ``run_bridge`` brings up the amqtt broker and the HJ 212
listener itself, so a simulated crane overload becomes an alarm with no external service."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
from pathlib import Path
from types import SimpleNamespace

from config.container import build_infrastructure
from domain.alerts.models import Alarm
from iot_bridge.bridge import run_bridge
from iot_bridge.simulate import Plan, demo_devices, hj212_frame, publish_plan
from tests.conftest import make_settings
from tests.integration.iot_helpers import make_site, wait_for

SITE = "WL-2026-0031-S1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_embedded_broker_and_hj212_listener(database: str, tmp_path: Path) -> None:
    await make_site()
    mqtt_port, hj212_port = free_port(), free_port()
    settings = make_settings(
        tmp_path, mqtt_url="", redis_url=None, embedded_mqtt_port=mqtt_port, iot_hj212_port=hj212_port
    )
    runtime = SimpleNamespace(settings=settings, infra=build_infrastructure(settings)[0])
    task = asyncio.create_task(run_bridge(runtime))
    try:

        async def listening() -> bool:
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", hj212_port)
            except OSError:
                return False
            writer.close()
            return True

        await wait_for(listening, timeout_s=20, what="the HJ 212 listener")
        cranes = [d for d in demo_devices([SITE]) if d.device_type == "crane"]
        await publish_plan(
            Plan(cranes, "crane_overload"),
            mqtt_url=f"mqtt://127.0.0.1:{mqtt_port}",
            root="wenling",
            rate=50,
            duration_s=10,
            max_messages=8,
        )

        async def overloaded() -> bool:
            return await Alarm.filter(source="WLCRANE003101", alarm_type="crane_moment").exists()

        await wait_for(overloaded, timeout_s=20, what="the crane alarm over the embedded broker")
        dust = next(d for d in demo_devices([SITE]) if d.device_type == "dust")
        reader, writer = await asyncio.open_connection("127.0.0.1", hj212_port)
        writer.write(hj212_frame(dust, {"pm10": 40.0}, at=dt.datetime.now(dt.UTC), ack=True))
        await writer.drain()
        assert b"CN=9014" in await asyncio.wait_for(reader.readuntil(b"\r\n"), 10)
        writer.close()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
