"""Emergency command on a real database: nearest resources against brute force for both geo
implementations, idempotent one-click dispatch, and the staff API from intake to the report."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters import memory, redis_ports
from config.app import create_app
from config.container import close_database, init_tortoise
from config.seed import seed_demo_data
from domain.emergency import queries as emergency_queries
from domain.emergency import services as emergency
from domain.emergency.models import Dispatch, EmergencyResource
from domain.emergency.rules import IncidentReport, IncidentType
from domain.geo import haversine_m
from domain.notifications.models import OutboxMessage
from domain.outbox.models import OutboxEvent
from tests.conftest import make_settings
from tests.outbox_helpers import relay_all

NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["memory", "redis"])
async def geo(request: pytest.FixtureRequest, key_prefix: str) -> AsyncIterator[Any]:
    if request.param == "memory":
        yield memory.MemoryGeoIndex()
        return
    client = redis_ports.connect(request.getfixturevalue("redis_url"))
    yield redis_ports.RedisGeoIndex(client, key_prefix)
    async for key in client.scan_iter(match=f"{key_prefix}*"):
        await client.delete(key)
    await client.aclose()


async def test_nearest_capable_resources_match_brute_force(database: str, geo: Any) -> None:
    rng = random.Random(5)
    capabilities = ("fire", "medical", "rescue", "crane")
    for index in range(120):
        await EmergencyResource.create(
            code=f"R{index:03d}",
            name=f"resource {index}",
            kind="rescue_team",
            capabilities=rng.sample(capabilities, k=rng.randint(1, 3)),
            lat=rng.uniform(28.2, 28.6),
            lng=rng.uniform(121.2, 121.6),
        )
    assert await emergency.index_resources(geo) == 120
    everything = await EmergencyResource.all()
    for _ in range(15):
        lat, lng = rng.uniform(28.25, 28.55), rng.uniform(121.25, 121.55)
        chosen = await emergency.nearest_resources(
            geo, lat=lat, lng=lng, capabilities=("medical",), per_capability=3
        )
        brute = sorted(
            (haversine_m(lat, lng, r.lat, r.lng), r.code) for r in everything if "medical" in r.capabilities
        )[:3]
        assert [c.code for c in chosen] == [code for _d, code in brute]
        for got, (distance, _code) in zip(chosen, brute, strict=True):
            assert got.distance_m == pytest.approx(distance, abs=1.5)


async def test_double_click_dispatch_sends_once(database: str) -> None:
    await EmergencyResource.create(
        code="FIRE-1",
        name="消防站",
        kind="fire_station",
        capabilities=["fire"],
        lat=28.37,
        lng=121.38,
        contact_openid="o-fire-contact",
    )
    fire = IncidentReport(
        source="staff",
        source_ref="req-1",
        incident_type=IncidentType.FIRE,
        title="工地起火",
        occurred_at=NOW,
        lat=28.371,
        lng=121.381,
    )
    incident, created = await emergency.report_incident(fire, actor="staff:1", duty_openids=["o-duty"])
    resent = IncidentReport(
        source="staff", source_ref="req-1", incident_type=IncidentType.FIRE, title="工地起火", occurred_at=NOW
    )
    again, created_again = await emergency.report_incident(resent, actor="staff:1", duty_openids=["o-duty"])
    assert created and not created_again and again.id == incident.id
    clicks = [
        emergency.dispatch(
            incident.code or "",
            targets=["FIRE-1"],
            departments={"fire": ["o-fire-duty"]},
            actor="staff:1",
            now=NOW,
        )
        for _ in range(3)
    ]
    results = await asyncio.gather(*clicks, return_exceptions=True)
    assert all(isinstance(result, list) for result in results), results
    assert await Dispatch.filter(incident_id=incident.id).count() == 2
    rows = await OutboxMessage.filter(category="emergency").values("recipient_openid")
    recipients = sorted(row["recipient_openid"] for row in rows)
    assert recipients == ["o-duty", "o-fire-contact", "o-fire-duty"]
    # One evidence event per dispatched target, however often clicked (issue 19).
    logged = [row.event_id for row in await OutboxEvent.filter(name="IncidentDispatched")]
    assert sorted(logged) == [f"{incident.code}:dispatch:FIRE-1", f"{incident.code}:dispatch:dept:fire"]


async def test_a_dispatch_that_fails_midway_leaves_nothing_and_the_retry_sends(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, the dispatch row was written first: a failure while queueing its messages left the
    target "dispatched" with nothing sent, and every retry skipped it."""
    fire = IncidentReport(
        source="staff", source_ref="req-2", incident_type=IncidentType.FIRE, title="工地起火", occurred_at=NOW
    )
    incident, _created = await emergency.report_incident(fire, actor="staff:1", duty_openids=[])
    from domain.notifications.services import enqueue as real_enqueue  # noqa: PLC0415

    calls = 0

    async def flaky_enqueue(**kwargs: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ConnectionError("database went away")
        return await real_enqueue(**kwargs)

    monkeypatch.setattr(emergency, "enqueue", flaky_enqueue)
    code = incident.code or ""

    async def click() -> list[dict[str, Any]]:
        return await emergency.dispatch(
            code, targets=[], departments={"fire": ["o-a", "o-b"]}, actor="staff:1", now=NOW
        )

    with pytest.raises(ConnectionError):
        await click()
    assert await Dispatch.filter(incident_id=incident.id).count() == 0
    assert await OutboxMessage.filter(category="emergency").count() == 0
    monkeypatch.setattr(emergency, "enqueue", real_enqueue)
    [result] = await click()
    assert result["new"] is True
    assert await OutboxMessage.filter(category="emergency").count() == 2


@pytest.fixture
async def staff_client(db_url: str, tmp_path: Path) -> Any:
    await init_tortoise(db_url)
    accounts = {username: password for username, password, _role in await seed_demo_data(tmp_path)}
    await close_database()
    app = create_app(make_settings(tmp_path, database_url=db_url))
    client = app.asgi_client
    _, login = await client.post(
        "/api/v1/auth/staff-login", json={"username": "emergency", "password": accounts["emergency"]}
    )
    _, environment_login = await client.post(
        "/api/v1/auth/staff-login", json={"username": "environment", "password": accounts["environment"]}
    )
    return (
        client,
        {"authorization": f"Bearer {login.json['token']}"},
        {"authorization": f"Bearer {environment_login.json['token']}"},
    )


async def test_staff_command_from_intake_to_report(staff_client: Any) -> None:
    client, headers, other_department = staff_client
    _, anonymous = await client.get("/api/v1/emergency/incidents")
    assert anonymous.status == 401
    body = {
        "incident_type": "crane_collapse",
        "title": "塔吊倒塌",
        "lat": 28.3745,
        "lng": 121.3800,
        "address": "太平街道万昌中路工地",
        "serious_injuries": 2,
    }
    _, forbidden = await client.post("/api/v1/emergency/incidents", json=body, headers=other_department)
    assert forbidden.status == 403
    _, created = await client.post("/api/v1/emergency/incidents", json=body, headers=headers)
    assert created.status == 201, created.json
    code = created.json["code"]
    assert created.json["grade_label"] == "一般事故"
    _, updated = await client.patch(
        f"/api/v1/emergency/incidents/{code}", json={"deaths": 3}, headers=headers
    )
    assert updated.json["grade_label"] == "较大事故"
    assert any(event["action"] == "regraded" for event in updated.json["timeline"])
    _, plan = await client.get(f"/api/v1/emergency/incidents/{code}/plan", headers=headers)
    assert plan.status == 200
    codes = [resource["code"] for resource in plan.json["resources"]]
    assert "FIRE-TP" in codes and "HOSP-1" in codes
    _, page = await client.get(
        f"/api/v1/emergency/incidents/{code}/plan", params={"format": "html"}, headers=headers
    )
    assert "塔吊倒塌专项应急预案" in page.body.decode()
    _, first = await client.post(
        f"/api/v1/emergency/incidents/{code}/dispatch", json={"resources": codes}, headers=headers
    )
    _, second = await client.post(
        f"/api/v1/emergency/incidents/{code}/dispatch", json={"resources": codes}, headers=headers
    )
    assert all(item["new"] for item in first.json["dispatched"])
    assert not any(item["new"] for item in second.json["dispatched"])
    _, acked = await client.post(
        f"/api/v1/emergency/incidents/{code}/acknowledge", json={"target": "FIRE-TP"}, headers=headers
    )
    assert any(d["target"] == "FIRE-TP" and d["acknowledged_at"] for d in acked.json["dispatches"])
    _, closed = await client.post(
        f"/api/v1/emergency/incidents/{code}/close", json={"summary": "救援完成"}, headers=headers
    )
    assert closed.json["status"] == "closed"
    _, report = await client.get(f"/api/v1/emergency/incidents/{code}/report", headers=headers)
    assert "事故处置总结报告" in report.body.decode() and "FIRE-TP" in report.body.decode()
    _, bad = await client.post(
        "/api/v1/emergency/incidents", json={"incident_type": "meteor"}, headers=headers
    )
    assert bad.status == 400


async def test_critical_crane_alarm_opens_one_incident_with_the_site_location(
    database: str, tmp_path: Path
) -> None:
    from domain.emergency.intake import handle_alarm_event  # noqa: PLC0415
    from domain.events import DomainEvent  # noqa: PLC0415
    from domain.projects.models import Site  # noqa: PLC0415

    await seed_demo_data(tmp_path)
    site = await Site.first()
    assert site is not None
    payload = {
        "alarm_id": 41,
        "site_code": site.code,
        "alarm_type": "crane_moment",
        "source": "device:WLCRANE",
        "severity": "critical",
        "at": NOW.isoformat(),
    }
    event = DomainEvent("AlarmRaised", payload, event_id="alarm-raised-41")
    first = await handle_alarm_event(event, duty_openids=["o-duty"], now=NOW)
    second = await handle_alarm_event(event, duty_openids=["o-duty"], now=NOW)
    assert first is not None and first == second
    detail = await emergency_queries.detail(first)
    assert detail["incident_type"] == "crane_collapse" and detail["lat"] == pytest.approx(site.lat)
    warning = DomainEvent("AlarmRaised", {**payload, "alarm_id": 42, "severity": "major"}, event_id="x")
    assert await handle_alarm_event(warning, duty_openids=[], now=NOW) is None


async def test_incident_changes_are_announced_without_personal_data(database: str) -> None:
    bus = memory.MemoryEventBus()
    for name in ("IncidentReported", "IncidentUpdated"):
        await bus.ensure_group(f"events.{name}", "city")
    report = IncidentReport(
        source="bot",
        source_ref="wechat:1",
        incident_type=IncidentType.FIRE,
        title="工地起火",
        occurred_at=NOW,
        reporter_openid="o-secret-reporter",
    )
    incident, _ = await emergency.report_incident(report, actor="citizen")
    await emergency.update_incident(incident.code or "", actor="staff:1", now=NOW, changes={"deaths": 3})
    assert await relay_all(bus) == 2  # the event outbox, published by the relay
    reported = await bus.read("events.IncidentReported", "city", "c", count=10)
    updated = await bus.read("events.IncidentUpdated", "city", "c", count=10)
    assert len(reported) == 1 and len(updated) == 1
    assert '"grade": "larger"' in updated[0].fields["payload"]
    assert "o-secret-reporter" not in reported[0].fields["payload"]
