"""End to end over the real Mosquitto and the WeChat API stub: the simulator's dust spike becomes an
alarm, the outbox dispatcher delivers the site manager's template message to the stub, the manager
acknowledges, and the alarm clears after the hold time once the air is clean again."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from adapters.config_files import load_rule_config
from adapters.wechat.client import client_from_settings
from adapters.wechat.dispatcher import build_dispatcher
from config.container import build_infrastructure
from domain.alerts import bindings, services
from domain.alerts.models import Alarm
from iot_bridge.bridge import Bridge, BridgeOptions
from iot_bridge.simulate import Plan, demo_devices, publish_plan
from tests.conftest import make_settings
from tests.integration.iot_helpers import fast_rules, make_site, wait_for
from tests.wechat_stub.plugin import stub_settings
from tests.wechat_stub.server import WeChatStub

SITE = "WL-2026-0031-S1"
MANAGER = "oManagerE2E0000000001"


def wechat_client(settings: Any, infra: Any) -> Any:
    return client_from_settings(settings, cache=infra.cache, lock=infra.lock)


@pytest.fixture
def mqtt_url() -> str:
    url = os.environ.get("MQTT_URL")
    if not url:
        pytest.skip("MQTT_URL is not set: MQTT end-to-end run skipped")
    return url


async def test_dust_spike_to_wechat_acknowledge_and_clear(
    database: str, mqtt_url: str, wechat_stub: WeChatStub, tmp_path: Path
) -> None:
    await make_site()
    issued = await bindings.issue_binding_code(
        site_code=SITE, issued_by="staff:1", at=dt.datetime.now(dt.UTC)
    )
    await bindings.bind_site(
        openid=MANAGER, code=issued["code"], project_code="WL-2026-0031", at=dt.datetime.now(dt.UTC)
    )
    settings = make_settings(tmp_path, **stub_settings(wechat_stub))
    infra = build_infrastructure(settings)[0]
    root = f"e2e{uuid.uuid4().hex[:8]}"
    bridge = Bridge(
        infra,
        BridgeOptions(
            mqtt_url=mqtt_url,
            topic_root=root,
            hj212_port=None,
            rules=load_rule_config(fast_rules(tmp_path)),
            flush_interval_s=0.2,
        ),
    )
    dust_only = [d for d in demo_devices([SITE]) if d.device_type == "dust"]
    task = asyncio.create_task(bridge.run())
    try:
        await asyncio.wait_for(bridge.ready.wait(), 10)
        assert bridge.mqtt is not None
        await asyncio.wait_for(bridge.mqtt.connected.wait(), 10)
        # 3 calm minutes, then 10 minutes of spike, stamped an hour ago (one reading per minute).
        spike = Plan(dust_only, "dust_spike", backfill_minutes=60)
        await publish_plan(spike, mqtt_url=mqtt_url, root=root, rate=500, duration_s=10, max_messages=13)

        async def raised() -> bool:
            return await Alarm.filter(source="WLDUST003101", alarm_type="dust_pm10_15m").exists()

        await wait_for(raised, what="the dust alarm")
        await bridge.pipeline.drain()
        dispatcher = await build_dispatcher(
            SimpleNamespace(settings=settings, infra=infra, wechat=wechat_client(settings, infra))
        )
        await dispatcher.run_once()
        delivered = [m for m in wechat_stub.sent if m["openid"] == MANAGER]
        assert delivered, wechat_stub.sent
        assert delivered[0]["api"] in ("template", "subscribe", "custom")

        alarm = await Alarm.get(source="WLDUST003101", alarm_type="dust_pm10_15m")
        await services.acknowledge(alarm.id, actor="manager", openid=MANAGER, at=dt.datetime.now(dt.UTC))
        calm = Plan(dust_only, "normal", backfill_minutes=45)
        await publish_plan(calm, mqtt_url=mqtt_url, root=root, rate=500, duration_s=10, max_messages=40)

        async def cleared() -> bool:
            return (await Alarm.get(id=alarm.id)).state.value == "cleared"

        await wait_for(cleared, what="the alarm to clear after the hold time")
        assert await Alarm.filter(source="WLDUST003101", alarm_type="dust_pm10_15m").count() == 1
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
