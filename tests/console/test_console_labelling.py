"""The verdict form on a camera alarm's console page: staff mark it right or a false alarm, the frame
becomes a labelled sample (the same service as ``POST /api/v1/alerts/{id}/verdict``), CSRF required."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from adapters.memory import MemoryEventBus
from domain.alerts import services as alerts
from domain.vision import samples
from domain.vision.rules import Detection
from tests.console.helpers import form_token, login, raise_alarm

EVIDENCE = "e" * 64 + ".jpg"
HEAD = Detection("head", 0.9, (100.0, 100.0, 140.0, 140.0))
HELMET = Detection("helmet", 0.8, (200.0, 100.0, 240.0, 140.0))


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=str(app.ctx.http.base_url), timeout=30)


async def camera_alarm() -> int:
    at = dt.datetime.now(dt.UTC)
    frame = samples.KeptFrame(
        evidence_ref=EVIDENCE,
        frame_ref="f" * 64 + ".jpg",
        camera_code="CAM-0031-1",
        alarm_type="no_hardhat",
        captured_at=at,
        width=416,
        height=416,
    )
    await samples.keep_alarm_frame(frame, detections=[HEAD, HELMET], offenders=[HEAD])
    return await alerts.raise_alarm(
        bus=MemoryEventBus(),
        source="camera:CAM-0031-1",
        alarm_type="no_hardhat",
        severity="major",
        site_code="WL-2026-0031-S1",
        value=0.9,
        limit=0.5,
        message="",
        at=at,
        evidence_ref=EVIDENCE,
        people=1,
    )


async def test_staff_mark_a_camera_alarm_a_false_alarm_from_its_page(console_app: Any) -> None:
    alarm_id = await camera_alarm()
    sensor_id = await raise_alarm()
    async with client(console_app) as http:
        await login(http, "housing1")
        assert "识别正确" not in (await http.get(f"/console/alarms/{sensor_id}")).text  # no frame to label
        page = await http.get(f"/console/alarms/{alarm_id}")
        assert f'action="/console/alarms/{alarm_id}/verdict"' in page.text
        forged = await http.post(
            f"/console/alarms/{alarm_id}/verdict", data={"verdict": "rejected", "csrf_token": "forged"}
        )
        assert forged.status_code == 403 and await samples.sample_of(alarm_id) is None
        done = await http.post(
            f"/console/alarms/{alarm_id}/verdict",
            data={"verdict": "rejected", "note": "栏杆反光", "csrf_token": form_token(page.text)},
        )
        assert done.status_code == 303 and done.headers["location"].endswith("?done=rejected")
        shown = await http.get(done.headers["location"])
        assert "已标注为误报" in shown.text and "当前标注：误报" in shown.text
        assert "标注：误报" in shown.text.split("过程")[-1]  # on the timeline too
        bad = await http.post(
            f"/console/alarms/{alarm_id}/verdict",
            data={"verdict": "maybe", "csrf_token": form_token(page.text)},
        )
        assert bad.status_code == 400
    sample = await samples.sample_of(alarm_id)
    assert sample is not None and sample["verdict"] == "rejected" and sample["note"] == "栏杆反光"
    assert [(box["class"], box["role"]) for box in sample["boxes"]] == [
        ("head", "negative"),
        ("helmet", "positive"),
    ]
