"""The alerts API end to end through the app: binding codes and binding, a site manager's alarms
(only their sites), acknowledge, resolve with a photo, staff counts and violation confirmation,
device readings and the public environment summary; bad input answers 4xx, never 5xx."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tortoise import Tortoise

from adapters.memory import MemoryEventBus
from config.app import create_app
from config.container import close_database
from config.database import tortoise_config
from domain.accounts.rules import Principal, Role, issue_token
from domain.alerts import readings, services
from domain.alerts.readings import AggregateRow
from tests.conftest import make_settings
from tests.integration.iot_helpers import EnqueueRecorder, make_site

SECRET = "alerts-api-test-secret-0123456789abcdef"
SITE = "WL-2026-0031-S1"
MANAGER = "oManagerApi00000000001"


def token(role: Role, *, openid: str = "", subject: str = "7", uscc: str = "") -> dict[str, str]:
    principal = Principal(subject=subject, role=role, openid=openid, enterprise_uscc=uscc)
    value = issue_token(principal, secret=SECRET.encode(), now=dt.datetime.now(dt.UTC))
    return {"authorization": f"Bearer {value}"}


STAFF = token(Role.STAFF)


@pytest.fixture
async def client(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr("domain.notifications.services.enqueue", EnqueueRecorder().enqueue)
    await Tortoise.init(config=tortoise_config(db_url))
    await make_site()
    await make_site("WL-2026-0032-S1", project_code="WL-2026-0032")
    now = dt.datetime.now(dt.UTC)
    bus = MemoryEventBus()
    for site, source in ((SITE, "WLDUST003101"), ("WL-2026-0032-S1", "WLDUST003201")):
        await services.raise_alarm(
            bus=bus,
            source=source,
            alarm_type="dust_pm10_1h",
            severity="major",
            site_code=site,
            value=230,
            limit=200,
            message="PM10",
            at=now,
        )
    minute = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=5)
    await readings.store_aggregates(
        [
            AggregateRow(SITE, "WLDUST003101", "pm10", minute, 2, 240, 100, 140, 2, 240),
            AggregateRow(
                SITE, "WLDUST003101", "pm10", minute, 1, 999, 999, 999, 0, 0
            ),  # flag C: kept, not averaged
            AggregateRow(SITE, "WLNOISE003101", "leq_db", minute, 1, 61, 61, 61, 1, 61),
        ]
    )
    await close_database()
    app = create_app(make_settings(tmp_path, database_url=db_url, secret_key=SECRET))
    return app.asgi_client


async def bind(client: Any, openid: str = MANAGER) -> None:
    _, issued = await client.post("/api/v1/alerts/binding-codes", json={"site_code": SITE}, headers=STAFF)
    assert issued.status == 201, issued.text
    assert issued.json["qr_scene"] == f"bind:{issued.json['code']}"
    manager = token(Role.CITIZEN, openid=openid)
    _, bound = await client.post(
        "/api/v1/alerts/bindings",
        headers=manager,
        json={"code": issued.json["code"].lower(), "project_code": "wl-2026-0031"},
    )
    assert bound.status == 201 and bound.json["site_code"] == SITE
    _, again = await client.post(
        "/api/v1/alerts/bindings", headers=manager, json={"code": issued.json["code"]}
    )
    assert again.status == 409 and again.json["code"] == "binding_code_used"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_site_manager_flow(client: Any) -> None:
    await bind(client)
    manager = token(Role.SITE_MANAGER, openid=MANAGER)
    _, listed = await client.get("/api/v1/alerts", headers=manager)
    assert listed.status == 200
    assert [item["site_code"] for item in listed.json["items"]] == [SITE]
    alarm_id = listed.json["items"][0]["id"]
    _, other = await client.get("/api/v1/alerts", headers=manager, params={"site_code": "WL-2026-0032-S1"})
    assert other.status == 403
    _, acked = await client.post(f"/api/v1/alerts/{alarm_id}/acknowledge", headers=manager)
    assert acked.status == 200 and acked.json["state"] == "acknowledged"
    _, twice = await client.post(f"/api/v1/alerts/{alarm_id}/acknowledge", headers=manager)
    assert twice.status == 409
    _, no_photo = await client.post(
        f"/api/v1/alerts/{alarm_id}/resolve",
        headers=manager,
        json={"note": "洒水", "photo_ref": "0" * 64 + ".jpg"},
    )
    assert no_photo.status == 400 and no_photo.json["code"] == "photo_not_found"
    _, resolved = await client.post(
        f"/api/v1/alerts/{alarm_id}/resolve",
        headers=manager,
        data={"note": "已洒水降尘并覆盖裸土"},
        files={"photo": ("fix.png", png(), "image/png")},
    )
    assert resolved.status == 200, resolved.text
    assert resolved.json["state"] == "resolved" and resolved.json["resolution_photo_ref"].endswith(".png")
    assert [e["kind"] for e in resolved.json["timeline"]][-2:] == ["acknowledged", "resolved"]
    _, series = await client.get("/api/v1/alerts/devices/WLDUST003101/readings", headers=manager)
    assert series.status == 200
    assert (
        series.json["series"]["pm10"][0]["mean"] == 120.0 and series.json["series"]["pm10"][0]["max"] == 999
    )
    _, foreign = await client.get("/api/v1/alerts/devices/WLDUST003201/readings", headers=manager)
    assert foreign.status == 403
    _, unbound = await client.delete(f"/api/v1/alerts/bindings/{SITE}", headers=manager)
    assert unbound.json == {"unbound": True}
    _, detail = await client.get(f"/api/v1/alerts/{alarm_id}", headers=manager)
    assert detail.status == 403


async def test_staff_dashboard_and_violation(client: Any) -> None:
    _, listed = await client.get(
        "/api/v1/alerts", headers=STAFF, params={"severity": "major", "open": "true"}
    )
    assert listed.json["total"] == 2
    _, counts = await client.get("/api/v1/alerts/counts", headers=STAFF)
    assert counts.json["severity"] == {"major": 2} and counts.json["state"] == {"raised": 2}
    alarm_id = listed.json["items"][0]["id"]
    _, confirmed = await client.post(f"/api/v1/alerts/{alarm_id}/confirm-violation", headers=STAFF)
    assert confirmed.status == 200 and confirmed.json["violation_confirmed"] is True
    _, forbidden = await client.get("/api/v1/alerts/counts", headers=token(Role.SITE_MANAGER, openid=MANAGER))
    assert forbidden.status == 403


async def test_public_environment_summary(client: Any) -> None:
    _, summary = await client.get(f"/api/v1/sites/{SITE}/environment")
    assert summary.status == 200
    assert summary.json["pm10_1h"] == 120.0 and summary.json["noise_leq_1h"] == 61.0
    assert summary.json["exceedances_today"] == 1
    _, missing = await client.get("/api/v1/sites/WL-2026-9999-S1/environment")
    assert missing.status == 404


BAD_REQUESTS: list[tuple[str, str, dict[str, Any], int]] = [
    ("get", "/api/v1/alerts", {}, 401),
    ("get", "/api/v1/alerts", {"params": {"state": "weird"}, "headers": STAFF}, 400),
    ("get", "/api/v1/alerts", {"params": {"page_size": "1000"}, "headers": STAFF}, 400),
    ("get", "/api/v1/alerts/999999", {"headers": STAFF}, 404),
    ("post", "/api/v1/alerts/99999999999999999999/acknowledge", {"headers": STAFF}, 404),
    ("post", "/api/v1/alerts/binding-codes", {"json": {"site_code": "nope"}, "headers": STAFF}, 404),
    ("post", "/api/v1/alerts/binding-codes", {"json": [], "headers": STAFF}, 400),
    (
        "post",
        "/api/v1/alerts/bindings",
        {"json": {"code": "!!"}, "headers": token(Role.CITIZEN, openid="oX12345678")},
        400,
    ),
    ("post", "/api/v1/alerts/bindings", {"json": {"code": "ABCDEFGH"}, "headers": token(Role.CITIZEN)}, 403),
    ("get", "/api/v1/alerts/devices/NOPE/readings", {"headers": STAFF, "params": {"hours": "0"}}, 400),
]


async def test_bad_requests_are_4xx(client: Any) -> None:
    for method, path, kwargs, status in BAD_REQUESTS:
        _, response = await getattr(client, method)(path, **kwargs)
        assert response.status == status, (path, kwargs, response.text)
        assert set(response.json) >= {"code", "message"}


async def test_enterprise_may_issue_codes_only_for_its_own_sites(client: Any) -> None:
    builder = token(Role.ENTERPRISE, uscc="91331080031MA2AAAA")
    _, own = await client.post("/api/v1/alerts/binding-codes", json={"site_code": SITE}, headers=builder)
    assert own.status == 201
    _, foreign = await client.post(
        "/api/v1/alerts/binding-codes", json={"site_code": "WL-2026-0032-S1"}, headers=builder
    )
    assert foreign.status == 403


async def test_staff_see_the_device_life_cycle(client: Any) -> None:
    _, listed = await client.get("/api/v1/alerts/device-health", params={"site_code": SITE}, headers=STAFF)
    assert listed.status == 200, listed.text
    status = {item["device_code"]: item["status"] for item in listed.json["items"]}
    # Dust and noise reported five minutes ago (3 x their 60 s interval has passed); the crane never did.
    assert status == {
        "WLDUST003101": "offline",
        "WLNOISE003101": "offline",
        "WLCRANE003101": "not_commissioned",
    }
    _, only = await client.get(
        "/api/v1/alerts/device-health", params={"status": "not_commissioned"}, headers=STAFF
    )
    assert {item["device_code"] for item in only.json["items"]} == {
        "WLCRANE003101",
        "WLDUST003201",
        "WLNOISE003201",
        "WLCRANE003201",
    }
    assert only.json["counts"] == {"not_commissioned": 4, "online": 0, "offline": 2}
    _, bad = await client.get("/api/v1/alerts/device-health", params={"status": "broken"}, headers=STAFF)
    assert bad.status == 400 and bad.json["code"] == "invalid_parameter"
    manager = token(Role.CITIZEN, openid=MANAGER)
    _, forbidden = await client.get("/api/v1/alerts/device-health", headers=manager)
    assert forbidden.status == 403
