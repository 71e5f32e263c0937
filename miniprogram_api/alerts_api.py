"""Alerts API: site managers (their sites' alarms, acknowledge, resolve with note + photo, readings,
binding), staff (every alarm with filters and counts, confirm a violation, issue binding codes) and
the public site environment summary. Staff verdicts on camera alarms feed the labelling loop
(``domain.vision.samples``)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from adapters.uploads import validate_image
from domain.accounts.rules import Principal, Role
from domain.alerts import bindings, queries, readings, services
from domain.alerts import device_health as device_health_service
from domain.alerts.rules import parse_severity
from domain.errors import Forbidden, ValidationFailed
from domain.vision import samples
from domain.vision.sample_rules import parse_verdict
from miniprogram_api.auth import current, json_body, require
from miniprogram_api.context import infra_of, media_of, settings_of
from miniprogram_api.openapi_errors import error_responses
from miniprogram_api.params import int_arg, text_arg

alerts = Blueprint("alerts", url_prefix="/api/v1/alerts")
environment = Blueprint("site_environment", url_prefix="/api/v1/sites")

ALARM = {"application/json": dict}
PAGE = {"application/json": {"items": list, "total": int, "page": int, "page_size": int}}
MANAGERS = (Role.SITE_MANAGER, Role.STAFF)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _manager_openid(principal: Principal) -> str | None:
    """None for staff (they act on any site); a site manager's openid scopes them to bound sites."""
    if principal.is_staff():
        return None
    if not principal.openid:
        raise Forbidden("a WeChat login is required", code="openid_required")
    return principal.openid


def _actor(principal: Principal) -> str:
    return f"{principal.role.value}:{principal.subject}"[:64]


async def _query(request: Request, site_codes: tuple[str, ...] | None) -> queries.AlarmQuery:
    state = text_arg(request, "state", max_length=16)
    severity = text_arg(request, "severity", max_length=16)
    site = text_arg(request, "site_code", max_length=24).upper()
    if site:
        if site_codes is not None and site not in site_codes:
            raise Forbidden("you are not bound to this site", code="site_not_bound")
        site_codes = (site,)
    since_hours = int_arg(request, "since_hours", default=0, low=0, high=24 * 366)
    return queries.AlarmQuery(
        site_codes=site_codes,
        state=queries.parse_state(state) if state else None,
        open_only=text_arg(request, "open", max_length=5).lower() in ("1", "true", "yes"),
        severity=parse_severity(severity) if severity else None,
        alarm_type=text_arg(request, "alarm_type", max_length=48),
        since=_now() - dt.timedelta(hours=since_hours) if since_hours else None,
        page=int_arg(request, "page", default=1, low=1, high=100_000),
        page_size=int_arg(request, "page_size", default=20, low=1, high=queries.MAX_PAGE_SIZE),
    )


def _filters(handler: Any) -> Any:
    for name, kind, text in (
        ("site_code", str, "one site"),
        ("state", str, "raised|acknowledged|cleared|resolved"),
        ("open", str, "true: only open alarms"),
        ("severity", str, "info|warning|major|critical"),
        ("alarm_type", str, "e.g. dust_pm10_1h"),
        ("since_hours", int, "raised within the last N hours"),
        ("page", int, "1.."),
        ("page_size", int, "1..100"),
    ):
        handler = openapi.parameter(name, kind, "query", description=text)(handler)
    return handler


@alerts.get("/")
@openapi.summary("Alarms: a site manager sees their bound sites, staff see every site")
@_filters
@openapi.response(200, PAGE)
@error_responses(400)
@require(*MANAGERS)
async def list_alarms(request: Request) -> HTTPResponse:
    openid = _manager_openid(current(request))
    sites = None if openid is None else tuple(await bindings.sites_of(openid))
    return json(await queries.list_alarms(await _query(request, sites)))


@alerts.get("/counts")
@openapi.summary("Dashboard counts by state, severity and type (staff)")
@_filters
@openapi.response(200, {"application/json": {"state": dict, "severity": dict, "alarm_type": dict}})
@error_responses(400)
@require(Role.STAFF)
async def alarm_counts(request: Request) -> HTTPResponse:
    return json(await queries.alarm_counts(await _query(request, None)))


@alerts.get("/<alarm_id:int>")
@openapi.summary("One alarm with its full timeline")
@openapi.response(200, ALARM)
@error_responses(403, 404)
@require(*MANAGERS)
async def alarm_detail(request: Request, alarm_id: int) -> HTTPResponse:
    return json(await services.alarm_detail(alarm_id, openid=_manager_openid(current(request))))


@alerts.post("/<alarm_id:int>/acknowledge")
@openapi.summary("Acknowledge an alarm (a bound site manager, or staff)")
@openapi.response(200, ALARM)
@error_responses(404, 409)
@require(*MANAGERS)
async def acknowledge(request: Request, alarm_id: int) -> HTTPResponse:
    principal = current(request)
    detail = await services.acknowledge(
        alarm_id,
        actor=_actor(principal),
        openid=_manager_openid(principal),
        at=_now(),
    )
    return json(detail)


async def _resolution(request: Request) -> tuple[str, str]:
    """JSON ``{note, photo_ref}`` (a photo uploaded before) or multipart ``note`` + ``photo`` file."""
    media = media_of(request)
    if (request.content_type or "").startswith("multipart/form-data"):
        note = (request.form.get("note") if request.form else None) or ""
        upload = request.files.get("photo") if request.files else None
        if upload is None:
            raise ValidationFailed("a photo of the fix is required", code="photo_required")
        settings = settings_of(request)
        info = await asyncio.to_thread(
            validate_image,
            upload.body,
            max_bytes=settings.media_max_bytes,
            max_pixels=settings.media_max_pixels,
        )
        return str(note), await media.put(upload.body, content_type=info.content_type)
    body = json_body(request)
    note, photo_ref = body.get("note"), body.get("photo_ref")
    if not isinstance(note, str) or not isinstance(photo_ref, str):
        raise ValidationFailed("note and photo_ref are required strings", code="invalid_resolution")
    if not photo_ref or not await media.exists(photo_ref):
        raise ValidationFailed("photo_ref does not name an uploaded photo", code="photo_not_found")
    return note, photo_ref


@alerts.post("/<alarm_id:int>/resolve")
@openapi.summary("Resolve an alarm with a note and a photo of the fix")
@openapi.body({"application/json": {"note": str, "photo_ref": str}})
@openapi.response(200, ALARM)
@error_responses(400, 404, 409)
@require(*MANAGERS)
async def resolve(request: Request, alarm_id: int) -> HTTPResponse:
    principal = current(request)
    openid = _manager_openid(principal)
    await services.alarm_detail(alarm_id, openid=openid)  # 404/403 before anything is stored
    note, photo_ref = await _resolution(request)
    detail = await services.resolve(
        alarm_id,
        bus=infra_of(request).bus,
        actor=_actor(principal),
        openid=openid,
        note=note,
        photo_ref=photo_ref,
        at=_now(),
    )
    return json(detail)


@alerts.post("/<alarm_id:int>/confirm-violation")
@openapi.summary("Staff confirm the alarm as a violation (the credit context records it once)")
@openapi.response(200, ALARM)
@error_responses(404)
@require(Role.STAFF)
async def confirm_violation(request: Request, alarm_id: int) -> HTTPResponse:
    detail = await services.confirm_violation(
        alarm_id, bus=infra_of(request).bus, staff=_actor(current(request)), at=_now()
    )
    return json(detail)


@alerts.post("/<alarm_id:int>/verdict")
@openapi.summary("Staff confirm or reject a camera alarm: its frame becomes a labelled training sample")
@openapi.description(
    "confirmed: every box the model saw is a positive of its class; rejected: the boxes that triggered"
    " the alarm are hard negatives (left out of the labels). Optional boxes [{class: head|helmet, box:"
    " [x1, y1, x2, y2] px}] replace the model's boxes. A second verdict replaces the sample."
)
@openapi.body({"application/json": {"verdict": str, "boxes": list, "note": str}})
@openapi.response(200, {"application/json": dict})
@error_responses(400, 404, 409)
@require(Role.STAFF)
async def verdict(request: Request, alarm_id: int) -> HTTPResponse:
    given = parse_verdict(json_body(request))
    sample = await samples.record_verdict(alarm_id, given, actor=_actor(current(request)), at=_now())
    return json(sample)


@alerts.get("/devices/<device_code:str>/readings")
@openapi.summary("Per-minute readings of one device (default the last 24 hours)")
@openapi.parameter("hours", int, "query", description="1..72")
@openapi.parameter("metric", str, "query", description="pm10, pm25, leq_db, moment_pct, ...")
@openapi.response(200, {"application/json": dict})
@error_responses(400, 404)
@require(*MANAGERS)
async def device_readings(request: Request, device_code: str) -> HTTPResponse:
    if len(device_code) > 40:
        raise ValidationFailed("device code is at most 40 characters", code="invalid_parameter")
    series = await readings.device_series(
        device_code,
        now=_now(),
        hours=int_arg(request, "hours", default=24, low=1, high=readings.MAX_SERIES_HOURS),
        metric=text_arg(request, "metric", max_length=24),
    )
    openid = _manager_openid(current(request))
    if openid is not None and series["site_code"] not in await bindings.sites_of(openid):
        raise Forbidden("you are not bound to this device's site", code="site_not_bound")
    return json(series)


@alerts.get("/device-health")
@openapi.summary("Every device's life cycle: not commissioned (never reported), online or offline (staff)")
@openapi.parameter("site_code", str, "query", description="one site")
@openapi.parameter("status", str, "query", description="not_commissioned|online|offline")
@openapi.response(200, {"application/json": {"items": list, "counts": dict, "as_of": str}})
@error_responses(400)
@require(Role.STAFF)
async def device_health(request: Request) -> HTTPResponse:
    status = text_arg(request, "status", max_length=20)
    return json(
        await device_health_service.device_health(
            now=_now(),
            site_code=text_arg(request, "site_code", max_length=24).upper(),
            status=device_health_service.parse_status(status) if status else None,
        )
    )


# --- bindings ---------------------------------------------------------------------------------------


@alerts.post("/binding-codes")
@openapi.summary("Issue a one-time binding code for a site (staff, or the enterprise that builds it)")
@openapi.body({"application/json": {"site_code": str}})
@openapi.response(
    201,
    {
        "application/json": {
            "code": str,
            "site_code": str,
            "project_code": str,
            "expires_at": str,
            "qr_scene": str,
        }
    },
)
@error_responses(400, 403, 404)
@require(Role.STAFF, Role.ENTERPRISE)
async def issue_binding_code(request: Request) -> HTTPResponse:
    principal = current(request)
    site_code = json_body(request).get("site_code")
    if not isinstance(site_code, str) or not 1 <= len(site_code) <= 24:
        raise ValidationFailed("site_code is required", code="invalid_parameter")
    issued = await bindings.issue_binding_code(
        site_code=site_code,
        issued_by=_actor(principal),
        at=_now(),
        enterprise_uscc=None if principal.is_staff() else principal.enterprise_uscc,
    )
    return json(issued, status=201)


@alerts.post("/bindings")
@openapi.summary("Bind yourself (WeChat login) to a site with a one-time code")
@openapi.body({"application/json": {"code": str, "project_code": str}})
@openapi.response(201, {"application/json": {"site_code": str, "project_code": str}})
@error_responses(400, 404, 409)
@require(Role.CITIZEN, Role.SITE_MANAGER)
async def bind(request: Request) -> HTTPResponse:
    principal = current(request)
    if not principal.openid:
        raise Forbidden("a WeChat login is required", code="openid_required")
    body = json_body(request)
    code, project_code = body.get("code"), body.get("project_code")
    if not isinstance(code, str) or (project_code is not None and not isinstance(project_code, str)):
        raise ValidationFailed("code (and optionally project_code) must be strings", code="invalid_parameter")
    bound = await bindings.bind_site(
        openid=principal.openid, code=code, project_code=project_code or None, at=_now()
    )
    return json(bound, status=201)


@alerts.get("/bindings")
@openapi.summary("The sites you are bound to")
@openapi.response(200, {"application/json": {"sites": list}})
@require(Role.CITIZEN, Role.SITE_MANAGER)
async def my_bindings(request: Request) -> HTTPResponse:
    openid = current(request).openid
    return json({"sites": await bindings.sites_of(openid) if openid else []})


@alerts.delete("/bindings/<site_code:str>")
@openapi.summary("Unbind yourself from a site")
@openapi.response(200, {"application/json": {"unbound": bool}})
@require(Role.CITIZEN, Role.SITE_MANAGER)
async def unbind(request: Request, site_code: str) -> HTTPResponse:
    openid = current(request).openid
    if len(site_code) > 24:
        raise ValidationFailed("site code is at most 24 characters", code="invalid_parameter")
    return json({"unbound": bool(openid) and await bindings.unbind_site(openid=openid, site_code=site_code)})


# --- public -----------------------------------------------------------------------------------------


@environment.get("/<site_code:str>/environment")
@openapi.summary("Public site environment: last hour's PM10, PM2.5 and noise, today's exceedances")
@openapi.response(
    200,
    {
        "application/json": {
            "site_code": str,
            "pm10_1h": float,
            "pm25_1h": float,
            "noise_leq_1h": float,
            "exceedances_today": int,
        }
    },
)
@error_responses(404)
async def site_environment(request: Request, site_code: str) -> HTTPResponse:
    if len(site_code) > 24 or any(ord(ch) < 32 for ch in site_code):
        raise ValidationFailed("site code is at most 24 characters", code="invalid_parameter")
    return json(await readings.site_summary(site_code, now=_now()))
