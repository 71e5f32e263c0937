"""A device registered through the staff API sends HJ 212 frames with the password the API issued,
and only with it: the listener answers 9014 for its frames and stays silent for a wrong PW."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from adapters.infrastructure import Infrastructure
from config.app import create_app
from config.container import close_database, init_tortoise
from domain.alerts.readings import DeviceInfo
from domain.projects.registry_files import xlsx_city_file
from iot_bridge.simulate import hj212_frame
from iot_bridge.tcp import ListenerLimits
from tests.city_file import city_sheets
from tests.conftest import make_settings
from tests.integration.iot_helpers import EnqueueRecorder, running
from tests.integration.test_iot_hj212_listener import acknowledged, bridge_with
from tests.integration.test_registry_api import HOUSING, SECRET, upload

MN = "33108199000042"


async def test_a_device_created_through_the_api_sends_with_its_issued_password_only(
    db_url: str, outbox: EnqueueRecorder, infra: Infrastructure, tmp_path: Path
) -> None:
    client: Any = create_app(make_settings(tmp_path, database_url=db_url, secret_key=SECRET)).asgi_client
    await upload(client, xlsx_city_file(city_sheets(sites=1)), dry_run="false")
    body = {"site_code": "S0001", "device_type": "扬尘", "interval_s": 60}
    _, created = await client.post(f"/api/v1/admin/registry/devices/{MN}", json=body, headers=HOUSING)
    assert created.status == 201
    _, issued = await client.post(f"/api/v1/admin/registry/devices/{MN}/hj212-password", headers=HOUSING)
    assert issued.status == 201 and issued.headers["cache-control"] == "no-store"
    first = issued.json["password"]
    _, rotated = await client.post(f"/api/v1/admin/registry/devices/{MN}/hj212-password", headers=HOUSING)
    password = rotated.json["password"]
    assert password != first
    await init_tortoise(db_url)  # the API client closed its connections after each request
    device = DeviceInfo(MN, "S0001", "dust", 60)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    bridge = bridge_with(infra, tmp_path, ListenerLimits())
    try:
        async with running(bridge):
            port = bridge.hj212.port
            for wrong in ("123456", first):  # the factory default, and the password rotated away
                frame = hj212_frame(device, {"pm10": 50.0}, at=now, ack=True, pw=wrong)
                assert not await acknowledged(port, frame, wait_s=1.5), wrong
            right = hj212_frame(device, {"pm10": 50.0}, at=now, ack=True, pw=password)
            assert await acknowledged(port, right)
    finally:
        await close_database()
