"""Camera HTTP doors: device-key uploads (503 when no worker owns the camera), bad input answered 4xx,
admin health and capacity, key provisioning, camera settings managed by admins."""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from sanic import Sanic

from config.app import create_app
from config.container import close_database, init_tortoise
from config.settings import Settings
from domain.accounts.rules import Principal, Role, issue_token
from domain.projects.models import Camera, Project, Site
from domain.projects.rules import ProjectKind, ProjectStage
from domain.vision.events import FRAME_GROUP, camera_lease, frame_stream
from domain.vision.rules import camera_device_key
from tests.conftest import make_settings

CAMERA = "CAM-0099-1"
OTHER = "CAM-0099-2"
SITE = "WL-2026-0099-S1"


async def create_cameras(db_url: str) -> None:
    await init_tortoise(db_url)
    project = await Project.create(
        code="WL-2026-0099",
        name="视觉测试项目",
        kind=ProjectKind.RESIDENTIAL,
        stage=ProjectStage.CONSTRUCTION,
        town="太平街道",
        address="测试路1号",
        lat=28.37,
        lng=121.37,
    )
    site = await Site.create(code=SITE, project=project, name="视觉测试工地", lat=28.37, lng=121.37)
    await Camera.create(code=CAMERA, site=site, name="大门摄像头", sample_fps=1.0)
    await Camera.create(code=OTHER, site=site, name="作业面摄像头", sample_fps=1.0, enabled=False)
    await close_database()


def bearer(settings: Settings, role: Role) -> dict[str, str]:
    principal = Principal(subject="1", role=role, department="housing" if role is Role.STAFF else "")
    value = issue_token(
        principal, secret=settings.secret_key.get_secret_value().encode(), now=dt.datetime.now(dt.UTC)
    )
    return {"Authorization": f"Bearer {value}"}


def device(settings: Settings, code: str = CAMERA) -> dict[str, str]:
    return {
        "Authorization": "Device " + camera_device_key(settings.secret_key.get_secret_value().encode(), code)
    }


def jpeg() -> bytes:
    image = np.random.default_rng(1).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", image)[1].tobytes()


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A tiny PNG whose header claims 20000×20000 pixels: decoding it would need 1.2 GB."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (1 + 3 * width) * 16)  # a few rows only; the rest is missing
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def owned_by_a_worker(app: Sanic[Any, Any], *codes: str) -> None:
    """A vision worker holds these cameras: each request's fresh runtime gets their leases."""

    async def hold_leases(app: Sanic[Any, Any]) -> None:
        for code in codes:
            await app.ctx.infra.lock.acquire(camera_lease(code), "worker-x", 3600)

    app.register_listener(hold_leases, "before_server_start")


@pytest.fixture
async def app(db_url: str, tmp_path: Path) -> Any:
    await create_cameras(db_url)
    created = create_app(make_settings(tmp_path, database_url=db_url))
    owned_by_a_worker(created, CAMERA)
    return created


@pytest.fixture
async def unowned_app(db_url: str, tmp_path: Path) -> Any:
    """No vision worker runs (or all are full): nobody holds the cameras' leases."""
    await create_cameras(db_url)
    return create_app(make_settings(tmp_path, database_url=db_url))


async def upload(client: Any, headers: dict[str, str], data: bytes, content_type: str = "image/jpeg") -> Any:
    _, response = await client.post(
        f"/api/v1/cameras/{CAMERA}/frames", headers=headers, files={"frame": ("f.jpg", data, content_type)}
    )
    return response


async def test_a_camera_uploads_with_its_device_key(app: Any) -> None:
    settings = app.ctx.settings
    response = await upload(app.asgi_client, device(settings), jpeg())
    assert response.status == 202, response.json
    assert response.json["camera_code"] == CAMERA and (response.json["width"], response.json["height"]) == (
        160,
        120,
    )
    assert (
        await app.ctx.infra.bus.pending_count(f"vision.frames.{CAMERA}", "vision-workers") == 0
    )  # queued, unread


async def test_uploads_without_the_right_key_are_refused(app: Any) -> None:
    client, settings = app.asgi_client, app.ctx.settings
    assert (await upload(client, {}, jpeg())).status == 401
    assert (await upload(client, {"Authorization": "Device nope"}, jpeg())).status == 401
    assert (await upload(client, device(settings, OTHER), jpeg())).status == 401  # another camera's key
    assert (
        await upload(client, bearer(settings, Role.ADMIN), jpeg())
    ).status == 401  # people are not cameras
    _, disabled = await client.post(
        f"/api/v1/cameras/{OTHER}/frames",
        headers=device(settings, OTHER),
        files={"frame": ("f.jpg", jpeg(), "image/jpeg")},
    )
    assert disabled.status == 403


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "image/jpeg", 400, "corrupt_image"),
        (b"", "image/jpeg", 400, "empty_file"),
        (png_bomb(), "image/png", 400, "image_too_large"),
        (b"%PDF-1.7 not an image", "image/jpeg", 400, "unsupported_type"),
        (jpeg(), "text/plain", 415, "unsupported_type"),
    ],
    ids=["corrupt-jpeg", "zero-bytes", "decompression-bomb", "pdf-as-jpeg", "wrong-content-type"],
)
async def test_bad_frames_get_a_4xx_and_the_service_keeps_accepting(
    app: Any, data: bytes, content_type: str, status: int, code: str
) -> None:
    client, settings = app.asgi_client, app.ctx.settings
    response = await upload(client, device(settings), data, content_type)
    assert (response.status, response.json["code"]) == (status, code)
    assert (await upload(client, device(settings), jpeg())).status == 202


async def test_missing_frame_field_and_bad_timestamp(app: Any) -> None:
    client, settings = app.asgi_client, app.ctx.settings
    _, response = await client.post(
        f"/api/v1/cameras/{CAMERA}/frames", headers=device(settings), data={"x": "1"}
    )
    assert response.status == 400
    _, response = await client.post(
        f"/api/v1/cameras/{CAMERA}/frames",
        headers=device(settings),
        files={"frame": ("f.jpg", jpeg(), "image/jpeg")},
        data={"captured_at": "yesterday"},
    )
    assert (response.status, response.json["code"]) == (400, "invalid_captured_at")


async def test_health_and_device_key_are_for_admins(app: Any) -> None:
    client, settings = app.asgi_client, app.ctx.settings
    assert (await client.get("/api/v1/cameras/health"))[1].status == 401
    assert (await client.get("/api/v1/cameras/health", headers=bearer(settings, Role.CITIZEN)))[
        1
    ].status == 403
    _, response = await client.get("/api/v1/cameras/health", headers=bearer(settings, Role.ADMIN))
    assert response.status == 200
    rows = {row["camera_code"]: row for row in response.json["items"]}
    assert set(rows) == {CAMERA, OTHER}
    assert rows[CAMERA]["last_frame_at"] is None and rows[CAMERA]["stale"] is True
    _, staff = await client.get(
        "/api/v1/cameras/health", headers=bearer(settings, Role.STAFF), params={"site": "x"}
    )
    assert staff.status == 200 and staff.json["total"] == 0

    _, key = await client.post(f"/api/v1/cameras/{CAMERA}/device-key", headers=bearer(settings, Role.ADMIN))
    assert key.status == 200
    assert {"Authorization": "Device " + key.json["device_key"]} == device(settings)
    _, denied = await client.post(
        f"/api/v1/cameras/{CAMERA}/device-key", headers=bearer(settings, Role.STAFF)
    )
    assert denied.status == 403
    _, missing = await client.post(
        "/api/v1/cameras/CAM-NOPE/device-key", headers=bearer(settings, Role.ADMIN)
    )
    assert missing.status == 404


async def test_a_frame_for_a_camera_no_worker_owns_gets_503_with_retry_after_and_is_not_queued(
    unowned_app: Any,
) -> None:
    settings = unowned_app.ctx.settings
    response = await upload(unowned_app.asgi_client, device(settings), jpeg())
    assert (response.status, response.json["code"]) == (503, "camera_unowned")
    assert int(response.headers["retry-after"]) > 0
    with pytest.raises(LookupError):  # refused before anything was queued: not even a stream exists
        await unowned_app.ctx.infra.bus.pending_count(frame_stream(CAMERA), FRAME_GROUP)


async def test_health_and_readiness_show_cameras_without_a_worker(unowned_app: Any) -> None:
    client, settings = unowned_app.asgi_client, unowned_app.ctx.settings
    _, health = await client.get("/api/v1/cameras/health", headers=bearer(settings, Role.STAFF))
    assert health.status == 200
    capacity = health.json["capacity"]
    assert (capacity["cameras"], capacity["unowned"], capacity["over_capacity"]) == (1, 1, True)
    assert capacity["unowned_cameras"] == [CAMERA]  # the disabled one is not counted
    _, ready = await client.get("/api/v1/cameras/readiness", headers=bearer(settings, Role.ADMIN))
    assert (ready.status, ready.json["status"]) == (503, "over_capacity")
    assert (await client.get("/api/v1/cameras/readiness", headers=bearer(settings, Role.CITIZEN)))[
        1
    ].status == 403


async def test_readiness_is_ok_and_health_names_the_owner_when_every_camera_has_a_worker(app: Any) -> None:
    client, settings = app.asgi_client, app.ctx.settings
    _, ready = await client.get("/api/v1/cameras/readiness", headers=bearer(settings, Role.ADMIN))
    assert (ready.status, ready.json["capacity"]["unowned"]) == (200, 0)
    _, health = await client.get("/api/v1/cameras/health", headers=bearer(settings, Role.ADMIN))
    owners = {row["camera_code"]: row["owner"] for row in health.json["items"]}
    assert owners == {CAMERA: "worker-x", OTHER: None}


NEW_CAMERA = {
    "code": "CAM-0099-7",
    "site_code": SITE,
    "name": "塔吊下方",
    "stream_url": "rtsp://10.0.0.7:554/stream1",
    "sample_fps": 2,
    "score_threshold": 0.5,
    "work_zone": [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]],
}


async def test_admins_register_and_change_a_camera_and_staff_may_only_read(app: Any) -> None:
    client, settings = app.asgi_client, app.ctx.settings
    admin, staff = bearer(settings, Role.ADMIN), bearer(settings, Role.STAFF)
    assert (await client.post("/api/v1/cameras/", headers=staff, json=NEW_CAMERA))[1].status == 403
    _, created = await client.post("/api/v1/cameras/", headers=admin, json=NEW_CAMERA)
    assert created.status == 201, created.json
    assert created.json["stream_url"] == NEW_CAMERA["stream_url"] and created.json["sample_fps"] == 2.0
    _, again = await client.post("/api/v1/cameras/", headers=admin, json=NEW_CAMERA)
    assert (again.status, again.json["code"]) == (409, "camera_exists")

    change = {"sample_fps": 0.5, "score_threshold": None, "stream_url": ""}
    assert (await client.patch("/api/v1/cameras/CAM-0099-7", headers=staff, json=change))[1].status == 403
    _, changed = await client.patch("/api/v1/cameras/CAM-0099-7", headers=admin, json=change)
    assert changed.status == 200, changed.json
    _, read = await client.get("/api/v1/cameras/CAM-0099-7", headers=staff)
    assert read.json == {**created.json, "sample_fps": 0.5, "score_threshold": None, "stream_url": ""}
    assert (await client.get("/api/v1/cameras/CAM-NOPE", headers=staff))[1].status == 404


@pytest.mark.parametrize(
    "change",
    [
        {"stream_url": "file:///etc/passwd"},
        {"stream_url": "rtsp://"},
        {"sample_fps": 0},
        {"sample_fps": 120},
        {"sample_fps": "fast"},
        {"score_threshold": 1.5},
        {"score_threshold": True},
        {"work_zone": [[0.1, 0.1], [0.5, 0.5]]},
        {"work_zone": [[0.1, 0.1], [0.5, 0.5], [0.9, 0.9]]},
        {"work_zone": [[0.1, 0.1], [1.5, 0.1], [0.5, 0.9]]},
        {"name": ""},
        {"enabled": "yes"},
        {"site_code": "ELSEWHERE"},
        {"sample_rate": 1},
    ],
    ids=[
        "file-url",
        "no-host",
        "zero-fps",
        "too-fast",
        "fps-text",
        "threshold-above-1",
        "threshold-bool",
        "two-points",
        "collinear",
        "outside-frame",
        "empty-name",
        "enabled-text",
        "move-site",
        "unknown-field",
    ],
)
async def test_bad_camera_settings_get_400_and_change_nothing(app: Any, change: dict[str, Any]) -> None:
    client, settings = app.asgi_client, app.ctx.settings
    _, response = await client.patch(
        f"/api/v1/cameras/{CAMERA}", headers=bearer(settings, Role.ADMIN), json=change
    )
    assert (response.status, response.json["code"]) == (400, "invalid_camera_settings"), response.json
    _, read = await client.get(f"/api/v1/cameras/{CAMERA}", headers=bearer(settings, Role.ADMIN))
    assert (read.json["sample_fps"], read.json["stream_url"], read.json["work_zone"]) == (1.0, "", None)
