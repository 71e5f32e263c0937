"""Staff see the HJ 212 quarantine with counts by reason, and set a device's password through the API;
the frames come from a real listener: a wrong PW and an unknown MN are kept as raw frames, unanswered,
next to the stored frame."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from tortoise import Tortoise

from adapters.config_files import load_rule_config
from adapters.infrastructure import Infrastructure
from config.app import create_app
from config.container import close_database
from config.database import tortoise_config
from domain.accounts.rules import Role
from domain.alerts.readings import DeviceInfo
from domain.iot.models import RawFrame
from domain.iot.rules import FrameStatus
from iot_bridge.bridge import Bridge, BridgeOptions
from iot_bridge.simulate import hj212_frame
from tests.conftest import make_settings
from tests.integration.iot_helpers import EnqueueRecorder, fast_rules, make_site, running, wait_for
from tests.integration.test_iot_api import SECRET, STAFF, token

SITE = "WL-2026-0031-S1"
DUST = DeviceInfo("WLDUST003101", SITE, "dust", 60)


@pytest.fixture
async def app_client(db_url: str, tmp_path: Path) -> Any:
    app = create_app(
        make_settings(tmp_path, database_url=db_url, secret_key=SECRET),
        name=f"iot_api_{tmp_path.name[-12:]}",
        run_workers=False,
    )
    return app.asgi_client


async def send(port: int, frame: bytes) -> None:
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(frame)
    await writer.drain()
    await asyncio.sleep(0.3)
    writer.close()


async def test_staff_set_a_password_and_see_the_quarantine(
    app_client: Any, db_url: str, infra: Infrastructure, outbox: EnqueueRecorder, tmp_path: Path
) -> None:
    await Tortoise.init(config=tortoise_config(db_url))
    await make_site(SITE)
    await close_database()
    _, set_pw = await app_client.put(
        f"/api/v1/iot/devices/{DUST.code}/password", json={"password": "s3cret-77"}, headers=STAFF
    )
    assert set_pw.status == 204, set_pw.body
    _, unknown = await app_client.put(
        "/api/v1/iot/devices/WLNOPE/password", json={"password": "x"}, headers=STAFF
    )
    assert unknown.status == 404 and unknown.json["code"] == "not_found"
    _, bad = await app_client.put(
        f"/api/v1/iot/devices/{DUST.code}/password", json={"password": "a;b"}, headers=STAFF
    )
    assert bad.status == 400
    _, manager = await app_client.get("/api/v1/iot/quarantine", headers=token(Role.SITE_MANAGER, openid="o1"))
    assert manager.status == 403

    await Tortoise.init(config=tortoise_config(db_url))
    bridge = Bridge(
        infra,
        BridgeOptions(
            mqtt_url=None, hj212_host="127.0.0.1", hj212_port=0, rules=load_rule_config(fast_rules(tmp_path))
        ),
    )
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    async with running(bridge):
        port = bridge.hj212.port
        await send(port, hj212_frame(DUST, {"pm10": 50.0}, at=now, ack=True, pw="123456"))
        await send(port, hj212_frame(DeviceInfo("WLDUST999901", SITE, "dust", 60), {"pm10": 5.0}, at=now))
        await send(port, hj212_frame(DUST, {"pm10": 50.0}, at=now, ack=True, pw="s3cret-77"))

        async def written() -> bool:
            return await RawFrame.all().count() == 3

        await wait_for(written, what="three raw frames")
    statuses = sorted(str(s) for s in await RawFrame.all().values_list("status", flat=True))
    assert statuses == [FrameStatus.QUARANTINED, FrameStatus.QUARANTINED, FrameStatus.STORED]
    await close_database()

    _, listed = await app_client.get("/api/v1/iot/quarantine", headers=STAFF)
    assert listed.status == 200, listed.body
    assert listed.json["counts"] == {"bad_password": 1, "unknown_device": 1}
    assert {item["mn"] for item in listed.json["items"]} == {DUST.code, "WLDUST999901"}
    assert all(item["frame"].startswith("QN=") for item in listed.json["items"])
    _, one = await app_client.get("/api/v1/iot/quarantine", headers=STAFF, params={"mn": DUST.code})
    assert one.json["total"] == 1 and one.json["items"][0]["reason"] == "bad_password"
    _, wrong = await app_client.get("/api/v1/iot/quarantine", headers=STAFF, params={"hours": "x"})
    assert wrong.status == 400


async def test_staff_queue_downlink_commands_and_bad_ones_are_4xx(app_client: Any, db_url: str) -> None:
    await Tortoise.init(config=tortoise_config(db_url))
    await make_site(SITE)
    await close_database()
    url = f"/api/v1/iot/devices/{DUST.code}/commands"
    _, queued = await app_client.post(url, json={"command": "time_sync"}, headers=STAFF)
    assert queued.status == 202 and queued.json["id"]
    _, interval = await app_client.post(
        url, json={"command": "upload_interval", "seconds": 60}, headers=STAFF
    )
    assert interval.status == 202
    for body, code in (
        ({"command": "reboot"}, "invalid_command"),
        ({"command": "upload_interval", "seconds": 10}, "invalid_interval"),
        ({"command": "upload_interval", "seconds": "60"}, "invalid_parameter"),
    ):
        _, bad = await app_client.post(url, json=body, headers=STAFF)
        assert (bad.status, bad.json["code"]) == (400, code), body
    _, missing = await app_client.post(
        "/api/v1/iot/devices/WLNOPE/commands", json={"command": "time_sync"}, headers=STAFF
    )
    assert missing.status == 404
    _, odd = await app_client.post(
        "/api/v1/iot/devices/WL%20X%00/commands", json={"command": "time_sync"}, headers=STAFF
    )
    assert (odd.status, odd.json["code"]) == (400, "invalid_parameter")
