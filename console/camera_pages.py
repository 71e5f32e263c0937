"""Camera pages: every camera with its site, sampling, threshold and health (as
``GET /api/v1/cameras/health``, staff and admins), and one camera's settings form (as
``PATCH /api/v1/cameras/<code>``, admins only), validated by the same rules
(``domain.vision.camera_rules``); a refused value is shown on the form and nothing changes."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any, cast
from urllib.parse import quote, urlencode

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw, redirect
from sanic_ext import openapi

from console.forms import arg_int, arg_text, form_text
from console.guard import cache_of, current, page
from console.templating import render
from domain.accounts.rules import Role
from domain.errors import NotFound, ValidationFailed
from domain.ports import Lock, MediaStore
from domain.vision import camera_admin, samples
from domain.vision import services as vision
from domain.vision.camera_rules import camera_settings

console_cameras = Blueprint("console_cameras", url_prefix="/console/cameras")
VIEWERS = (Role.ADMIN, Role.STAFF)  # as GET /api/v1/cameras/health
EDITORS = (Role.ADMIN,)  # as PATCH /api/v1/cameras/<code>
PAGE_SIZE = 50
MAX_ZONE_TEXT = 4000


def _lock_of(request: Request) -> Lock:
    return cast(Lock, request.app.ctx.infra.lock)


def _media_of(request: Request) -> MediaStore:
    return cast(MediaStore, request.app.ctx.media)


def _state(row: dict[str, Any]) -> str:
    """How a camera's health row reads on the page (labels: ``camera_state``)."""
    if not row["enabled"]:
        return "disabled"
    if row["last_frame_at"] is None:
        return "not_commissioned"
    return "offline" if row["stale"] else "online"


async def _health(request: Request, cameras: list[vision.CameraInfo]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await vision.health_report(
        cache_of(request), cameras, now=dt.datetime.now(dt.UTC)
    )
    settings = {camera.code: camera for camera in cameras}
    for row in rows:  # the lease says who owns it now, as the API reports it
        code = str(row["camera_code"])
        row["owner"] = await vision.camera_owner(_lock_of(request), code) if row["enabled"] else None
        row["state"] = _state(row)
        row["settings"] = settings[code]
    return rows


@console_cameras.get("/")
@openapi.exclude()
@page(*VIEWERS)
async def cameras_page(request: Request) -> HTTPResponse:
    site = arg_text(request, "site", max_length=24)
    number = arg_int(request, "page", default=1, low=1, high=100_000)
    listed = await vision.list_cameras(enabled_only=False)
    if site:
        listed = [camera for camera in listed if camera.site_code == site]
    chosen = listed[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    return render(
        request,
        "cameras.html",
        rows=await _health(request, chosen),
        site=site,
        total=len(listed),
        number=number,
        pages=max(1, math.ceil(len(listed) / PAGE_SIZE)),
        pager_query=urlencode([(k, v) for k, v in request.query_args if k != "page"]),
    )


def _zone_text(zone: tuple[tuple[float, float], ...] | None) -> str:
    return json.dumps([list(point) for point in zone]) if zone else ""


def _form_values(camera: vision.CameraInfo) -> dict[str, Any]:
    return {
        "name": camera.name,
        "stream_url": camera.stream_url,
        "sample_fps": f"{camera.sample_fps:g}",
        "score_threshold": "" if camera.score_threshold is None else f"{camera.score_threshold:g}",
        "work_zone": _zone_text(camera.work_zone),
        "enabled": camera.enabled,
    }


async def _camera_page(
    request: Request,
    code: str,
    *,
    values: dict[str, Any] | None = None,
    error: ValidationFailed | None = None,
) -> HTTPResponse:
    camera = await vision.camera_info(code)
    (health,) = await _health(request, [camera])
    return render(
        request,
        "camera.html",
        status=400 if error else 200,
        camera=camera,
        health=health,
        values=values or _form_values(camera),
        may_edit=current(request).role in EDITORS,
        has_frame=await samples.latest_frame_ref(camera.code) is not None,
        error=error,
        saved=bool(arg_int(request, "saved", default=0, low=0, high=1)),
    )


@console_cameras.get("/<code:str>")
@openapi.exclude()
@page(*VIEWERS)
async def camera_page(request: Request, code: str) -> HTTPResponse:
    return await _camera_page(request, code[:40])


@console_cameras.get("/<code:str>/frame")
@openapi.exclude()
@page(*VIEWERS)
async def latest_frame(request: Request, code: str) -> HTTPResponse:
    """The raw frame of the camera's latest alarm, under the work-zone editor."""
    ref = await samples.latest_frame_ref(code[:40])
    if ref is None:
        raise NotFound("this camera has no alarm frame yet", code="frame_not_found")
    data = await _media_of(request).get(ref)
    return raw(
        data,
        content_type="image/png" if ref.endswith(".png") else "image/jpeg",
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )


def _number(text: str) -> object:
    """A form number as a float; anything else is passed on as typed, for the domain to refuse."""
    try:
        return float(text)
    except ValueError:
        return text


def _zone(text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def _submitted(request: Request) -> dict[str, Any]:
    """The form as typed (shown again when refused)."""
    return {
        "name": form_text(request, "name", max_length=200),
        "stream_url": form_text(request, "stream_url", max_length=400),
        "sample_fps": form_text(request, "sample_fps", max_length=32),
        "score_threshold": form_text(request, "score_threshold", max_length=32),
        "work_zone": form_text(request, "work_zone", max_length=MAX_ZONE_TEXT),
        "enabled": form_text(request, "enabled", max_length=1) == "1",
    }


def _settings_body(values: dict[str, Any]) -> dict[str, object]:
    """The API's JSON body for the same change: an empty threshold or zone clears it."""
    threshold, zone = values["score_threshold"], values["work_zone"]
    return {
        "name": values["name"],
        "stream_url": values["stream_url"],
        "sample_fps": _number(values["sample_fps"]),
        "score_threshold": _number(threshold) if threshold else None,
        "work_zone": _zone(zone) if zone else None,
        "enabled": values["enabled"],
    }


@console_cameras.post("/<code:str>")
@openapi.exclude()
@page(*EDITORS)
async def update_camera(request: Request, code: str) -> HTTPResponse:
    code = code[:40]
    values: dict[str, Any] = {}
    try:
        values = _submitted(request)
        await camera_admin.update_camera(code, camera_settings(_settings_body(values)))
    except ValidationFailed as error:
        return await _camera_page(request, code, values=values or None, error=error)
    return redirect(f"/console/cameras/{quote(code)}?saved=1", status=303)
