"""Camera endpoints: frame upload by the camera itself, device-key provisioning, health for admins.

Device authentication. A camera (or the edge box in front of it) sends ``Authorization: Device <key>``
(or ``X-Device-Key: <key>``) where the key is HMAC-SHA256(SECRET_KEY, context + camera code). The key
is derived, never stored; an admin fetches it once from ``POST .../device-key`` (or
``python -m vision_worker device-key CODE``) and configures the camera with it. A key opens only its
own camera, and rotating SECRET_KEY rotates every key. Uploads must travel over TLS.
"""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, raw
from sanic_ext import openapi

from adapters.stream_probe import grab_frame
from adapters.uploads import validate_image
from domain.accounts.rules import Role
from domain.errors import DomainError, ValidationFailed
from domain.vision import camera_admin
from domain.vision import services as vision
from domain.vision.camera_rules import camera_settings
from domain.vision.events import UploadedFrame
from domain.vision.rules import camera_device_key
from miniprogram_api.auth import json_body, require
from miniprogram_api.context import infra_of, settings_of
from miniprogram_api.openapi_errors import error_responses
from miniprogram_api.params import body_text, int_arg, text_arg

cameras = Blueprint("cameras", url_prefix="/api/v1/cameras")

ACCEPTED_TYPES = ("image/jpeg", "image/png")
MAX_FRAME_PIXELS = 4096 * 4096  # no camera streams more; anything bigger is an attack or a mistake
MAX_CLOCK_SKEW = dt.timedelta(minutes=5)


class UnsupportedMediaType(DomainError):
    code = "unsupported_type"
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE


def _device_key(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "device" and value.strip():
        return value.strip()
    return request.headers.get("x-device-key")


def _captured_at(request: Request, now: dt.datetime) -> dt.datetime:
    raw = request.form.get("captured_at") if request.form else None
    if not raw:
        return now
    try:
        at = dt.datetime.fromisoformat(raw)
    except ValueError as error:
        raise ValidationFailed(
            "captured_at must be ISO-8601 with a timezone", code="invalid_captured_at"
        ) from error
    if at.tzinfo is None:
        raise ValidationFailed("captured_at must carry a timezone", code="invalid_captured_at")
    if at - now > MAX_CLOCK_SKEW:
        raise ValidationFailed("captured_at is in the future", code="invalid_captured_at")
    return at.astimezone(dt.UTC)


def _frame_groups(request: Request) -> set[str]:
    groups: set[str] | None = getattr(request.app.ctx, "vision_frame_groups", None)
    if groups is None:
        groups = set()
        request.app.ctx.vision_frame_groups = groups
    return groups


@cameras.post("/<camera_id:str>/frames")
@openapi.summary("Upload one camera frame (JPEG or PNG), authenticated with the camera's device key")
@openapi.parameter("Authorization", str, "header", description="'Device <key>'")
@openapi.body(
    {"multipart/form-data": {"frame": openapi.Binary(), "captured_at": str}},  # type: ignore[no-untyped-call]
    description="field 'frame': the image; optional 'captured_at': ISO-8601 with timezone",
)
@openapi.response(
    202, {"application/json": {"camera_code": str, "message_id": str, "width": int, "height": int}}
)
@openapi.response(503, {"application/json": {"code": str, "message": str}}, "no worker owns the camera now")
@error_responses(400, 401, 403, 415)
async def upload_frame(request: Request, camera_id: str) -> HTTPResponse:
    settings = settings_of(request)
    camera = await vision.authenticate_camera(
        camera_id[:40], _device_key(request), secret=settings.secret_key.get_secret_value().encode()
    )
    upload = request.files.get("frame") if request.files else None
    if upload is None:
        raise ValidationFailed("a multipart field 'frame' with the image is required", code="missing_frame")
    declared = (upload.type or "").split(";")[0].strip().lower()
    if declared not in ACCEPTED_TYPES:
        raise UnsupportedMediaType("only image/jpeg and image/png frames are accepted")
    info = validate_image(
        upload.body,
        max_bytes=settings.media_max_bytes,
        max_pixels=min(MAX_FRAME_PIXELS, settings.media_max_pixels),
    )
    now = dt.datetime.now(dt.UTC)
    frame = UploadedFrame(
        camera_code=camera.code,
        captured_at=_captured_at(request, now),
        content_type=info.content_type,
        data=upload.body,
    )
    infra = infra_of(request)
    try:
        message_id = await vision.accept_frame(
            infra.bus, frame, owners=infra.lock, known_groups=_frame_groups(request)
        )
    except vision.CameraUnowned as error:
        # Never 202 for a frame nobody will process: the camera (or its edge box) retries later.
        return json(
            {"code": error.code, "message": error.message},
            status=error.status,
            headers={"Retry-After": str(error.retry_after_s)},
        )
    return json(
        {"camera_code": camera.code, "message_id": message_id, "width": info.width, "height": info.height},
        status=202,
    )


@cameras.post("/<camera_id:str>/device-key")
@openapi.summary("The upload key of one camera, to configure the camera with (admin only)")
@openapi.response(200, {"application/json": {"camera_code": str, "device_key": str}})
@error_responses(401, 403, 404)
@require(Role.ADMIN)
async def device_key(request: Request, camera_id: str) -> HTTPResponse:
    camera = await vision.camera_info(camera_id[:40])
    secret = settings_of(request).secret_key.get_secret_value().encode()
    return json({"camera_code": camera.code, "device_key": camera_device_key(secret, camera.code)})


@cameras.get("/health")
@openapi.summary("Health of every camera: last frame, fps, drops, last detection, owner worker")
@openapi.parameter("site", str, "query", description="site code, e.g. WL-2026-0031-S1")
@openapi.parameter("page", int, "query")
@openapi.parameter("page_size", int, "query", description="1..200")
@openapi.response(200, {"application/json": {"items": list, "total": int, "page": int, "page_size": int}})
@error_responses(400, 401, 403)
@require(Role.ADMIN, Role.STAFF)
async def camera_health(request: Request) -> HTTPResponse:
    site = text_arg(request, "site", max_length=24)
    page = int_arg(request, "page", default=1, low=1, high=100_000)
    page_size = int_arg(request, "page_size", default=50, low=1, high=200)
    listed = await vision.list_cameras(enabled_only=False)
    if site:
        listed = [camera for camera in listed if camera.site_code == site]
    chosen = listed[(page - 1) * page_size : page * page_size]
    infra = infra_of(request)
    rows: list[dict[str, Any]] = await vision.health_report(infra.cache, chosen, now=dt.datetime.now(dt.UTC))
    for row in rows:  # the lease says who owns it now; health's owner is only the last reporter
        row["owner"] = (
            await vision.camera_owner(infra.lock, str(row["camera_code"])) if row["enabled"] else None
        )
    fleet = await vision.fleet_capacity(infra.cache, infra.lock, await vision.list_cameras())
    return json(
        {
            "items": rows,
            "total": len(listed),
            "page": page,
            "page_size": page_size,
            "capacity": fleet.to_dict(),
        }
    )


@cameras.get("/readiness")
@openapi.summary("Vision readiness: 200 when every enabled camera has a worker, 503 (with the gap) if not")
@openapi.response(200, {"application/json": {"status": str, "capacity": dict}})
@openapi.response(503, {"application/json": {"status": str, "capacity": dict}})
@error_responses(401, 403)
@require(Role.ADMIN, Role.STAFF)
async def vision_readiness(request: Request) -> HTTPResponse:
    infra = infra_of(request)
    fleet = await vision.fleet_capacity(infra.cache, infra.lock, await vision.list_cameras())
    ready = not fleet.over_capacity
    return json(
        {"status": "ok" if ready else "over_capacity", "capacity": fleet.to_dict()},
        status=200 if ready else 503,
    )


def _camera_json(camera: vision.CameraInfo) -> dict[str, Any]:
    return {
        "code": camera.code,
        "name": camera.name,
        "site_code": camera.site_code,
        "stream_url": camera.stream_url,
        "sample_fps": camera.sample_fps,
        "score_threshold": camera.score_threshold,
        "work_zone": [list(point) for point in camera.work_zone] if camera.work_zone else None,
        "enabled": camera.enabled,
    }


CAMERA_FIELDS = {
    "name": str,
    "stream_url": str,
    "sample_fps": float,
    "score_threshold": float,
    "work_zone": list,
    "enabled": bool,
}


@cameras.post("/")
@openapi.summary("Register a camera on a site with its settings (admin only)")
@openapi.body({"application/json": {"code": str, "site_code": str, **CAMERA_FIELDS}})
@openapi.response(201, {"application/json": {"code": str, **CAMERA_FIELDS}})
@error_responses(400, 401, 403, 404, 409)
@require(Role.ADMIN)
async def create_camera(request: Request) -> HTTPResponse:
    body = json_body(request)
    code = body_text(body, "code", max_length=40)
    site_code = body_text(body, "site_code", max_length=24)
    camera = await camera_admin.create_camera(code, site_code=site_code, settings=camera_settings(body))
    return json(_camera_json(camera), status=201)


@cameras.get("/<camera_id:str>")
@openapi.summary("One camera's settings")
@openapi.response(200, {"application/json": {"code": str, **CAMERA_FIELDS}})
@error_responses(401, 403, 404)
@require(Role.ADMIN, Role.STAFF)
async def get_camera(request: Request, camera_id: str) -> HTTPResponse:
    return json(_camera_json(await vision.camera_info(camera_id[:40])))


@cameras.patch("/<camera_id:str>")
@openapi.summary("Change a camera's settings; its worker picks them up at its next rescan (admin only)")
@openapi.body({"application/json": CAMERA_FIELDS})
@openapi.response(200, {"application/json": {"code": str, **CAMERA_FIELDS}})
@error_responses(400, 401, 403, 404)
@require(Role.ADMIN)
async def update_camera(request: Request, camera_id: str) -> HTTPResponse:
    body = json_body(request)
    if "code" in body or "site_code" in body:
        raise ValidationFailed("a camera's code and site cannot change", code="invalid_camera_settings")
    camera = await camera_admin.update_camera(camera_id[:40], camera_settings(body))
    return json(_camera_json(camera))


@cameras.post("/<camera_id:str>/probe")
@openapi.summary("拉流测试: grab one frame from the camera's stream URL and return it as a JPEG")
@openapi.response(200, {"image/jpeg": bytes})
@error_responses(401, 403, 404, 422)
@require(Role.ADMIN, Role.STAFF)
async def probe_stream(request: Request, camera_id: str) -> HTTPResponse:
    camera = await vision.camera_info(camera_id[:40])
    jpeg = await grab_frame(camera.stream_url)
    return raw(jpeg, content_type="image/jpeg", headers={"cache-control": "no-store"})
