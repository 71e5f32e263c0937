"""Complaints over the HTTP API on SQLite and PostgreSQL: filing with photos, dispatch to the nearest
site, staff handling, reply through the outbox, rating, reopen, privacy and department scoping."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tortoise import Tortoise

from config.app import create_app
from config.container import close_database
from config.database import tortoise_config
from domain.accounts.models import Account
from domain.accounts.rules import Principal, Role, issue_token
from domain.alerts.models import SiteBinding
from domain.complaints.models import Complaint, ComplaintEvent
from domain.notifications.models import OutboxMessage
from domain.projects.models import Enterprise, Project, Site
from domain.projects.rules import ProjectKind, ProjectStage
from tests.conftest import make_settings

SECRET = "complaints-test-secret-0123456789abcdef"
# Two sites 2 km apart in 太平街道, and a project in 泽国镇 without an active site.
SITE_A = ("WL-2026-0031", 28.3720, 121.3720, "太平街道", "91331081MA2AAAAA1X")
SITE_B = ("WL-2026-0032", 28.3900, 121.3720, "太平街道", "91331081MA2BBBBB2X")
NEAR_A = (28.3735, 121.3722)  # ~170 m from site A


def png_bytes(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


async def seed_sites() -> None:
    for code, lat, lng, town, uscc in (SITE_A, SITE_B):
        contractor = await Enterprise.create(name=f"承包商{code}", uscc=uscc)
        project = await Project.create(
            code=code,
            name=f"项目{code}",
            kind=ProjectKind.RESIDENTIAL,
            stage=ProjectStage.CONSTRUCTION,
            town=town,
            address=f"温岭市{town}",
            lat=lat,
            lng=lng,
            contractor=contractor,
        )
        await Site.create(code=f"{code}-S1", project=project, name="施工现场", lat=lat, lng=lng)
    await Project.create(
        code="WL-2026-0040",
        name="泽国项目",
        kind=ProjectKind.MUNICIPAL,
        stage=ProjectStage.PLANNING,
        town="泽国镇",
        address="温岭市泽国镇",
        lat=28.5,
        lng=121.3,
    )
    await Account.create(
        username="housing1", role=Role.STAFF, department="housing", openid="oStaffHousing0001"
    )


class Db:
    """Reads the database between requests (the app opens and closes its own connection per request)."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def __aenter__(self) -> None:
        await Tortoise.init(config=tortoise_config(self.url))

    async def __aexit__(self, *exc: object) -> None:
        await close_database()


@pytest.fixture
def db(db_url: str) -> Db:
    return Db(db_url)


@pytest.fixture
async def client(db_url: str, tmp_path: Path, key_prefix: str) -> Any:
    async with Db(db_url):
        await seed_sites()
    settings = make_settings(
        tmp_path,
        database_url=db_url,
        secret_key=SECRET,
        open311_api_keys=["k-test-12345"],
        redis_key_prefix=key_prefix,  # REDIS_URL may be set in the environment: keep runs apart
    )
    return create_app(settings).asgi_client


def token(
    role: Role, *, subject: str = "1", openid: str = "", department: str = "", uscc: str = ""
) -> dict[str, str]:
    principal = Principal(
        subject=subject, role=role, openid=openid, department=department, enterprise_uscc=uscc
    )
    value = issue_token(principal, secret=SECRET.encode(), now=dt.datetime.now(dt.UTC))
    return {"authorization": f"Bearer {value}"}


CITIZEN_A = token(Role.CITIZEN, subject="101", openid="oCitizenAAAA0001")
CITIZEN_B = token(Role.CITIZEN, subject="102", openid="oCitizenBBBB0002")
HOUSING = token(Role.STAFF, subject="1", department="housing")
ENVIRONMENT = token(Role.STAFF, subject="2", department="environment")
CONTRACTOR_A = token(Role.ENTERPRISE, subject="201", uscc=SITE_A[4])


async def file_complaint(client: Any, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = {
        "nuisance_type": "night_noise",
        "description": "凌晨还在打桩",
        "lat": NEAR_A[0],
        "lng": NEAR_A[1],
        "address": "万昌中路",
        "phone": "13800000000",
    } | overrides
    _, response = await client.post("/api/v1/complaints", json=body, headers=headers)
    assert response.status == 201, response.json
    return dict(response.json)


async def test_filing_with_photos_dispatches_to_the_nearest_site(client: Any) -> None:
    photo = png_bytes()
    _, response = await client.post(
        "/api/v1/complaints",
        data={
            "nuisance_type": "night_noise",
            "description": "夜间打桩",
            "lat": str(NEAR_A[0]),
            "lng": str(NEAR_A[1]),
            "occurred_at": "2026-03-10T23:30",
        },
        files={"photos": ("a.png", photo, "image/png")},
        headers=CITIZEN_A,
    )
    assert response.status == 201, response.json
    ticket = response.json
    assert ticket["ticket_no"].startswith("TS") and len(ticket["ticket_no"]) == 13
    assert ticket["state"] == "dispatched"
    assert ticket["site_code"] == "WL-2026-0031-S1" and ticket["department"] == "housing"
    assert len(ticket["photos"]) == 1 and ticket["photos"][0].endswith(".png")
    assert ticket["occurred_at"] == "2026-03-10T15:30:00+00:00"  # Shanghai time, stored as UTC
    assert [step["action"] for step in ticket["timeline"]] == ["submit", "dispatch"]
    _, mine = await client.get("/api/v1/complaints/mine", headers=CITIZEN_A)
    assert [t["ticket_no"] for t in mine.json["items"]] == [ticket["ticket_no"]]


async def test_no_site_nearby_routes_by_town(client: Any) -> None:
    ticket = await file_complaint(client, CITIZEN_A, nuisance_type="dust", lat=28.501, lng=121.301)
    assert ticket["site_code"] == "" and ticket["town"] == "泽国镇" and ticket["department"] == "environment"
    by_text = await file_complaint(
        client, CITIZEN_A, nuisance_type="muck_truck", lat=None, lng=None, address="泽国镇文昌路渣土车撒漏"
    )
    assert by_text["town"] == "泽国镇" and by_text["department"] == "urban_management"


async def test_citizen_cannot_read_another_citizens_ticket(client: Any) -> None:
    ticket = await file_complaint(client, CITIZEN_A)
    _, other = await client.get(f"/api/v1/complaints/{ticket['ticket_no']}", headers=CITIZEN_B)
    assert other.status in (403, 404)
    _, rate = await client.post(
        f"/api/v1/complaints/{ticket['ticket_no']}/rate", json={"rating": "3"}, headers=CITIZEN_B
    )
    assert rate.status in (403, 404)
    _, mine = await client.get("/api/v1/complaints/mine", headers=CITIZEN_B)
    assert mine.json["items"] == []
    _, anonymous = await client.get(f"/api/v1/complaints/{ticket['ticket_no']}")
    assert anonymous.status == 401


async def test_contractor_never_sees_the_reporter(client: Any, db: Db) -> None:
    ticket = await file_complaint(client, CITIZEN_A, name="张三")
    _, view = await client.get(f"/api/v1/complaints/{ticket['ticket_no']}", headers=CONTRACTOR_A)
    assert view.status == 200
    _, listing = await client.get("/api/v1/enterprise/complaints", headers=CONTRACTOR_A)
    assert [t["ticket_no"] for t in listing.json["items"]] == [ticket["ticket_no"]]
    for body in (view.body, listing.body):
        text = body.decode()
        assert "13800000000" not in text and "oCitizen" not in text and "张三" not in text
        assert "reporter" not in text
    other = token(Role.ENTERPRISE, subject="202", uscc=SITE_B[4])
    _, hidden = await client.get(f"/api/v1/complaints/{ticket['ticket_no']}", headers=other)
    assert hidden.status == 404
    # A site manager bound to the site sees it (still without the reporter); an unbound one does not.
    async with db:
        await SiteBinding.create(
            site_code="WL-2026-0031-S1", openid="oManagerA0000001", bound_at=dt.datetime.now(dt.UTC)
        )
    manager = token(Role.SITE_MANAGER, subject="301", openid="oManagerA0000001")
    _, managed = await client.get(f"/api/v1/complaints/{ticket['ticket_no']}", headers=manager)
    assert managed.status == 200 and "13800000000" not in managed.body.decode()
    _, managed_list = await client.get("/api/v1/enterprise/complaints", headers=manager)
    assert [t["ticket_no"] for t in managed_list.json["items"]] == [ticket["ticket_no"]]
    stranger = token(Role.SITE_MANAGER, subject="302", openid="oManagerB0000002")
    _, unbound = await client.get(f"/api/v1/complaints/{ticket['ticket_no']}", headers=stranger)
    assert unbound.status == 404
    # Staff do see the phone (for the follow-up call), but only a masked openid.
    _, staff = await client.get(f"/api/v1/complaints/{ticket['ticket_no']}", headers=HOUSING)
    assert staff.json["reporter"]["phone"] == "13800000000"
    assert staff.json["reporter"]["openid"] == "oCit***0001"


async def test_department_sees_only_its_queue(client: Any) -> None:
    noise = await file_complaint(client, CITIZEN_A)
    dust = await file_complaint(client, CITIZEN_A, nuisance_type="dust", lat=28.501, lng=121.301)
    _, housing = await client.get("/api/v1/staff/complaints", headers=HOUSING)
    _, environment = await client.get("/api/v1/staff/complaints", headers=ENVIRONMENT)
    assert [t["ticket_no"] for t in housing.json["items"]] == [noise["ticket_no"]]
    assert [t["ticket_no"] for t in environment.json["items"]] == [dust["ticket_no"]]
    _, foreign = await client.get(f"/api/v1/complaints/{noise['ticket_no']}", headers=ENVIRONMENT)
    assert foreign.status == 404
    _, act = await client.post(f"/api/v1/staff/complaints/{noise['ticket_no']}/accept", headers=ENVIRONMENT)
    assert act.status == 404
    _, citizen = await client.get("/api/v1/staff/complaints", headers=CITIZEN_A)
    assert citizen.status == 403
    _, filtered = await client.get(
        "/api/v1/staff/complaints",
        params={"sla_status": "on_time", "town": "太平街道", "nuisance_type": "night_noise"},
        headers=HOUSING,
    )
    assert filtered.json["total"] == 1
    _, bad = await client.get("/api/v1/staff/complaints", params={"state": "nope"}, headers=HOUSING)
    assert bad.status == 400 and bad.json["code"] == "invalid_parameter"


async def test_staff_reply_reaches_the_citizen_and_rating_closes_or_reopens(client: Any, db: Db) -> None:
    ticket_no = (await file_complaint(client, CITIZEN_A))["ticket_no"]
    base = f"/api/v1/staff/complaints/{ticket_no}"
    for action in ("accept", "start"):
        _, response = await client.post(f"{base}/{action}", headers=HOUSING)
        assert response.status == 200, response.json
    _, note = await client.post(f"{base}/note", json={"note": "已电话联系项目经理"}, headers=HOUSING)
    assert note.status == 200
    _, replied = await client.post(f"{base}/reply", json={"text": "已责令停止夜间打桩"}, headers=HOUSING)
    assert replied.status == 200 and replied.json["state"] == "follow_up"
    async with db:
        outbox = await OutboxMessage.filter(recipient_openid="oCitizenAAAA0001").order_by("id")
    assert len(outbox) == 1 and "已责令停止夜间打桩" in outbox[0].text and ticket_no in outbox[0].text
    assert outbox[0].template_key == "complaint_reply"
    # The same reply request retried does not send twice; a second reply needs a reopen first.
    _, again = await client.post(f"{base}/reply", json={"text": "已责令停止夜间打桩"}, headers=HOUSING)
    assert again.status == 409
    _, rated = await client.post(
        f"/api/v1/complaints/{ticket_no}/rate", json={"rating": "不满意"}, headers=CITIZEN_A
    )
    assert rated.status == 200 and rated.json["state"] == "reopened"
    assert rated.json["sla_status"] == "on_time"
    _, second = await client.post(f"{base}/reply", json={"text": "已现场复查，夜间停工"}, headers=HOUSING)
    assert second.status == 200
    _, closed = await client.post(
        f"/api/v1/complaints/{ticket_no}/rate", json={"rating": "1"}, headers=CITIZEN_A
    )
    assert closed.json["state"] == "closed" and closed.json["rating"] == "satisfied"
    timeline = [step["action"] for step in closed.json["timeline"]]
    assert "note" not in timeline  # internal notes stay internal
    assert timeline.count("reply") == 2
    async with db:
        replies = await OutboxMessage.filter(recipient_openid="oCitizenAAAA0001", category="complaint")
    assert sum("已现场复查" in m.text for m in replies) == 1


async def test_refuse_needs_a_reason_and_tells_the_citizen(client: Any, db: Db) -> None:
    ticket_no = (await file_complaint(client, CITIZEN_A))["ticket_no"]
    _, no_reason = await client.post(f"/api/v1/staff/complaints/{ticket_no}/refuse", headers=HOUSING)
    assert no_reason.status == 400 and no_reason.json["code"] == "note_required"
    _, refused = await client.post(
        f"/api/v1/staff/complaints/{ticket_no}/refuse", json={"note": "已取得夜间施工许可"}, headers=HOUSING
    )
    assert refused.json["state"] == "not_accepted"
    async with db:
        assert await OutboxMessage.filter(
            recipient_openid="oCitizenAAAA0001", text__contains="已取得夜间施工许可"
        ).exists()


async def test_duplicates_are_offered_and_merged_tickets_get_the_reply(client: Any, db: Db) -> None:
    first = await file_complaint(client, CITIZEN_A)
    second = await file_complaint(client, CITIZEN_B, lat=NEAR_A[0] + 0.001, lng=NEAR_A[1])
    _, view = await client.get(f"/api/v1/complaints/{second['ticket_no']}", headers=HOUSING)
    assert view.json["merge_candidates"] == [first["ticket_no"]]
    _, merged = await client.post(
        f"/api/v1/staff/complaints/{second['ticket_no']}/merge",
        json={"into": first["ticket_no"]},
        headers=HOUSING,
    )
    assert merged.status == 200 and merged.json["state"] == "merged"
    assert merged.json["merged_into"] == first["ticket_no"]
    await client.post(f"/api/v1/staff/complaints/{first['ticket_no']}/accept", headers=HOUSING)
    await client.post(
        f"/api/v1/staff/complaints/{first['ticket_no']}/reply", json={"text": "已停工"}, headers=HOUSING
    )
    for openid in ("oCitizenAAAA0001", "oCitizenBBBB0002"):
        async with db:
            assert await OutboxMessage.filter(recipient_openid=openid, text__contains="已停工").exists(), (
                openid
            )
    _, child = await client.get(f"/api/v1/complaints/{second['ticket_no']}", headers=CITIZEN_B)
    assert child.json["last_reply"] == "已停工"


async def test_uphold_publishes_complaint_upheld_once(client: Any, db: Db) -> None:
    ticket_no = (await file_complaint(client, CITIZEN_A))["ticket_no"]
    await client.post(f"/api/v1/staff/complaints/{ticket_no}/accept", headers=HOUSING)
    for _ in range(2):
        _, response = await client.post(
            f"/api/v1/staff/complaints/{ticket_no}/uphold", json={"note": "查实"}, headers=HOUSING
        )
        assert response.status == 200 and response.json["upheld"] is True
    async with db:
        assert await ComplaintEvent.filter(action="uphold").count() == 1


@pytest.mark.parametrize(
    ("name", "data", "codes"),
    [
        ("renamed.jpg", b"MZ\x90\x00" + b"\x00" * 4000, {"unsupported_type"}),
        ("empty.png", b"", {"empty_file"}),
        (
            "huge.jpg",
            b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024 + 10),
            {"file_too_large", "payload_too_large"},
        ),
        ("bomb.png", None, {"image_too_large"}),
        ("broken.png", png_bytes()[:60], {"corrupt_image"}),
    ],
)
async def test_bad_uploads_are_4xx_and_leave_the_ticket_intact(
    client: Any, db: Db, name: str, data: bytes | None, codes: set[str]
) -> None:
    ticket = await file_complaint(client, CITIZEN_A)
    async with db:
        before = await Complaint.get(ticket_no=ticket["ticket_no"])
        events_before = await ComplaintEvent.filter(complaint_id=before.id).count()
    if data is None:
        data = bomb_png()
    _, response = await client.post(
        f"/api/v1/complaints/{ticket['ticket_no']}/photos",
        files={"photos": (name, data, "image/png")},
        headers=CITIZEN_A,
    )
    assert 400 <= response.status < 500, response.status
    assert response.json["code"] in codes, response.json
    async with db:
        after = await Complaint.get(ticket_no=ticket["ticket_no"])
        assert after.photos == before.photos and after.state == before.state
        assert await ComplaintEvent.filter(complaint_id=before.id).count() == events_before
    # A good photo still goes in afterwards.
    _, good = await client.post(
        f"/api/v1/complaints/{ticket['ticket_no']}/photos",
        files={"photos": ("ok.png", png_bytes(), "image/png")},
        headers=CITIZEN_A,
    )
    assert good.status == 200 and len(good.json["photos"]) == 1


def bomb_png() -> bytes:
    """A small PNG that claims 30000 x 30000 pixels (900 megapixels): refused before decoding."""
    buffer = io.BytesIO()
    Image.new("1", (30000, 30000)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


async def test_create_with_a_bad_photo_creates_nothing(client: Any, db: Db) -> None:
    _, response = await client.post(
        "/api/v1/complaints",
        data={"nuisance_type": "dust", "description": "扬尘", "lat": str(NEAR_A[0]), "lng": str(NEAR_A[1])},
        files={"photos": ("x.jpg", b"#!/bin/sh\nrm -rf /\n", "image/jpeg")},
        headers=CITIZEN_A,
    )
    assert response.status == 400 and response.json["code"] == "unsupported_type"
    async with db:
        assert await Complaint.all().count() == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"nuisance_type": "aliens", "description": "x", "address": "a"}, "invalid_complaint"),
        ({"nuisance_type": "dust", "description": "x"}, "invalid_complaint"),
        ({"nuisance_type": "dust", "description": "x", "lat": 95, "lng": 121}, "invalid_coordinates"),
        ({"nuisance_type": "dust", "description": "x", "lat": "abc", "lng": 121}, "invalid_coordinates"),
        (
            {"nuisance_type": "dust", "description": "x", "address": "a", "occurred_at": "yesterday"},
            "invalid_time",
        ),
        (
            {"nuisance_type": "dust", "description": "x", "address": "a", "occurred_at": "2099-01-01T00:00"},
            "invalid_complaint",
        ),
        ({"nuisance_type": 5, "description": "x", "address": "a"}, "invalid_parameter"),
    ],
)
async def test_bad_complaints_are_400(client: Any, body: dict[str, Any], code: str) -> None:
    _, response = await client.post("/api/v1/complaints", json=body, headers=CITIZEN_A)
    assert response.status == 400 and response.json["code"] == code, response.json


async def test_gcj02_points_are_stored_as_wgs84(client: Any) -> None:
    from domain.geo import wgs84_to_gcj02  # noqa: PLC0415

    g_lat, g_lng = wgs84_to_gcj02(*NEAR_A)
    ticket = await file_complaint(client, CITIZEN_A, lat=g_lat, lng=g_lng, coord_type="gcj02")
    assert ticket["lat"] == pytest.approx(NEAR_A[0], abs=1e-5) and ticket["site_code"] == "WL-2026-0031-S1"


async def test_nearby_search_dispatch_and_geojson_agree_on_one_tencent_map_point(client: Any) -> None:
    """Issue 15: one point from a Tencent map (GCJ-02) reaches the same site through every door."""
    from domain.geo import haversine_m, wgs84_to_gcj02  # noqa: PLC0415

    g_lat, g_lng = wgs84_to_gcj02(*NEAR_A)
    query = {"near": f"{g_lat},{g_lng}", "coord_type": "gcj02", "radius_m": 1000}
    _, found = await client.get("/api/v1/projects", params=query)
    nearest = found.json["items"][0]
    assert nearest["code"] == SITE_A[0]
    assert nearest["distance_m"] == pytest.approx(haversine_m(*NEAR_A, *SITE_A[1:3]), abs=1.0)
    # Read as WGS-84 the same numbers are hundreds of metres off: the datum is stated, not guessed.
    _, unstated = await client.get("/api/v1/projects", params=query | {"coord_type": "wgs84"})
    assert abs(unstated.json["items"][0]["distance_m"] - nearest["distance_m"]) > 100
    _, refused = await client.get("/api/v1/projects", params=query | {"coord_type": "bd09"})
    assert refused.status == 400 and refused.json["code"] == "invalid_coordinates"

    ticket = await file_complaint(client, CITIZEN_A, lat=g_lat, lng=g_lng, coord_type="gcj02")
    assert ticket["site_code"] == f"{SITE_A[0]}-S1"
    _, layer = await client.get("/api/v1/exchange/geo/projects", headers=HOUSING)
    feature = next(f for f in layer.json["features"] if f["properties"]["code"] == SITE_A[0])
    lng, lat = feature["geometry"]["coordinates"]  # RFC 7946: WGS-84, longitude first
    assert haversine_m(lat, lng, *NEAR_A) == pytest.approx(nearest["distance_m"], abs=1.0)
