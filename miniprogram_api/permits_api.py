"""Night-work permits (夜间施工许可): staff of the issuing bureaus register and revoke them; anyone may
ask whether a site is covered right now (the posted public notice says the same)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from domain.accounts.rules import Department, Role
from domain.errors import Forbidden, ValidationFailed
from domain.permits import services
from domain.permits.rules import PermitWindow, parse_hhmm
from miniprogram_api.auth import current, json_body, require
from miniprogram_api.openapi_errors import error_responses
from miniprogram_api.params import text_arg

permits = Blueprint("permits", url_prefix="/api/v1/permits")

PERMIT = {"application/json": dict}
# Night-work permits are issued by 住建 (building works) or 生态环境 (environmental noise).
ISSUING_DEPARTMENTS = frozenset({Department.HOUSING, Department.ENVIRONMENT})


def _string(body: dict[str, Any], name: str, *, max_length: int, default: str = "") -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or len(value) > max_length:
        raise ValidationFailed(
            f"{name} must be a string of at most {max_length} characters", code="invalid_parameter"
        )
    return value.strip()


def _date(body: dict[str, Any], name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(_string(body, name, max_length=10))
    except ValueError as error:
        raise ValidationFailed(f"{name} must be a YYYY-MM-DD date", code="invalid_parameter") from error


@permits.post("/")
@openapi.summary("Register a night-work permit (housing or environment staff)")
@openapi.body(
    {
        "application/json": {
            "certificate_no": str,
            "site_code": str,
            "valid_from": str,
            "valid_to": str,
            "night_start": str,
            "night_end": str,
            "works": str,
            "notice_posted": bool,
            "notice_ref": str,
        }
    }
)
@openapi.response(201, PERMIT)
@error_responses(400, 403, 404, 409)
@require(Role.STAFF)
async def register(request: Request) -> HTTPResponse:
    principal = current(request)
    if principal.role is not Role.ADMIN and principal.department not in ISSUING_DEPARTMENTS:
        raise Forbidden(
            "only housing or environment staff register night-work permits", code="forbidden_department"
        )
    body = json_body(request)
    window = PermitWindow(
        _date(body, "valid_from"),
        _date(body, "valid_to"),
        parse_hhmm(_string(body, "night_start", max_length=5, default="22:00")),
        parse_hhmm(_string(body, "night_end", max_length=5, default="06:00")),
    )
    notice_posted = body.get("notice_posted", False)
    if not isinstance(notice_posted, bool):
        raise ValidationFailed("notice_posted must be true or false", code="invalid_parameter")
    permit = await services.register_permit(
        certificate_no=_string(body, "certificate_no", max_length=40),
        site_code=_string(body, "site_code", max_length=24),
        window=window,
        works=_string(body, "works", max_length=200),
        issued_by=principal.department or "admin",
        notice_posted=notice_posted,
        notice_ref=_string(body, "notice_ref", max_length=80),
        created_by=principal.subject,
    )
    return json(permit, status=201)


@permits.get("/")
@openapi.summary("List night-work permits, optionally for one site")
@openapi.parameter("site_code", str, "query")
@openapi.response(200, {"application/json": {"items": list}})
@error_responses(400)
@require(Role.STAFF)
async def list_permits(request: Request) -> HTTPResponse:
    return json(
        {"items": await services.list_permits(site_code=text_arg(request, "site_code", max_length=24))}
    )


@permits.get("/<permit_id:int>")
@openapi.summary("One night-work permit")
@openapi.response(200, PERMIT)
@error_responses(404)
@require(Role.STAFF)
async def get_permit(request: Request, permit_id: int) -> HTTPResponse:
    return json(await services.get_permit(permit_id))


@permits.post("/<permit_id:int>/revoke")
@openapi.summary("Revoke a night-work permit")
@openapi.response(200, PERMIT)
@error_responses(403, 404)
@require(Role.STAFF)
async def revoke(request: Request, permit_id: int) -> HTTPResponse:
    principal = current(request)
    if principal.role is not Role.ADMIN and principal.department not in ISSUING_DEPARTMENTS:
        raise Forbidden(
            "only housing or environment staff revoke night-work permits", code="forbidden_department"
        )
    return json(await services.revoke_permit(permit_id, now=dt.datetime.now(dt.UTC)))


@permits.get("/active")
@openapi.summary("Public: is this site covered by a night-work permit now (or at 'at')?")
@openapi.parameter("site_code", str, "query", required=True)
@openapi.parameter("at", str, "query", description="ISO 8601; default now")
@openapi.response(200, {"application/json": {"site_code": str, "permit": dict}})
@error_responses(400)
async def active(request: Request) -> HTTPResponse:
    site_code = text_arg(request, "site_code", max_length=24)
    if not site_code:
        raise ValidationFailed("site_code is required", code="invalid_parameter")
    raw_at = text_arg(request, "at", max_length=40)
    try:
        at = dt.datetime.fromisoformat(raw_at) if raw_at else dt.datetime.now(dt.UTC)
    except ValueError as error:
        raise ValidationFailed("at must be an ISO 8601 time", code="invalid_parameter") from error
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    if not 2000 <= at.year <= 2100:
        raise ValidationFailed("at must be between 2000 and 2100", code="invalid_parameter")
    permit = await services.active_night_permit(site_code, at)
    public = (
        None
        if permit is None
        else {
            key: permit[key]
            for key in (
                "certificate_no",
                "valid_from",
                "valid_to",
                "night_start",
                "night_end",
                "works",
                "notice_posted",
            )
        }
    )
    return json({"site_code": site_code, "permit": public})
