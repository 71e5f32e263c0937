"""The device health page: each sensor's life cycle (未接入 never alarmed, 在线, 离线 past its interval
× k) and the HJ 212 quarantine with counts, as the API reports them, for staff only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from domain.alerts.models import DeviceHealth
from domain.iot.models import RawFrame
from domain.iot.rules import FrameStatus
from domain.projects.models import Device, Site
from domain.projects.rules import DeviceType
from tests.console.helpers import XSS_SCRIPT
from tests.console.test_console_approvals import staff_client

SITE = "WL-2026-0031-S1"


async def _devices() -> None:
    site = await Site.get(code=SITE)
    now = dt.datetime.now(dt.UTC)
    for code, device_type, last in (
        ("WLDUST003101", DeviceType.DUST, None),  # registered, never reported
        ("WLNOISE003101", DeviceType.NOISE, now - dt.timedelta(seconds=30)),
        ("WLCRANE003101", DeviceType.CRANE, now - dt.timedelta(hours=2)),  # 60 s interval: offline
    ):
        await Device.create(code=code, site=site, device_type=device_type, interval_s=60)
        if last is not None:
            await DeviceHealth.create(
                device_code=code, site_code=SITE, first_seen_at=last - dt.timedelta(days=1), last_seen_at=last
            )
    for reason in ("bad_password", "bad_password", "unknown_device"):
        await RawFrame.create(
            received_at=now - dt.timedelta(minutes=5),
            mn="WLDUST009901" if reason == "unknown_device" else "WLDUST003101",
            source="tcp",
            status=FrameStatus.QUARANTINED,
            reason=reason,
            frame=f"##0101QN=20261206;ST=22;CN=2011;PW={XSS_SCRIPT};MN=WLDUST003101&&&&",
        )


async def test_staff_see_each_devices_life_cycle_and_the_quarantine(console_app: Any) -> None:
    await _devices()
    staff = await staff_client(console_app, "housing1")
    try:
        page = await staff.get("/console/devices/")
        assert page.status_code == 200
        text = page.text
        assert 'badge-not_commissioned">未接入' in text and 'badge-online">在线' in text
        assert 'badge-offline">离线' in text
        assert "密码错误：2 条" in text and "未登记的 MN：1 条" in text
        assert XSS_SCRIPT not in text and "&lt;script&gt;" in text  # the raw frame is shown as text

        offline = await staff.get(
            "/console/devices/", params={"status": "offline", "site_code": SITE.lower()}
        )
        assert "WLCRANE003101" in offline.text and "WLNOISE003101" not in offline.text
        assert (await staff.get("/console/devices/", params={"status": "broken"})).status_code == 400
        assert (await staff.get("/console/devices/", params={"hours": "0"})).status_code == 400
    finally:
        await staff.aclose()
    async with httpx.AsyncClient(base_url=str(console_app.ctx.http.base_url)) as anonymous:
        answer = await anonymous.get("/console/devices/")
        assert answer.status_code in (302, 303) and "/console/login" in answer.headers["location"]
