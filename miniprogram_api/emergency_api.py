"""Staff emergency command: incident board, intake, updates, plan, nearest resources, one-click
dispatch, acknowledgements, reporting marks, closing and the after-action report."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, html, json
from sanic_ext import openapi

from domain.accounts.rules import Role
from domain.emergency import command
from domain.emergency import queries as emergency_queries
from domain.emergency import services as emergency
from domain.emergency.rules import IncidentReport, IncidentStatus, IncidentType, ReportLevel
from domain.errors import ValidationFailed
from miniprogram_api.auth import current, json_body, require
from miniprogram_api.context import infra_of, settings_of
from miniprogram_api.emergency_html import plan_html, report_html
from miniprogram_api.openapi_errors import error_responses
from miniprogram_api.params import body_text, text_arg

emergency_bp = Blueprint("emergency", url_prefix="/api/v1/emergency")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _commander(request: Request) -> str:
    """Every staff member reads the board; commanding is the rule the console shares."""
    return command.commander(current(request))


async def duty_openids(request: Request) -> list[str]:
    return await emergency.duty_openids(settings_of(request).admin_alert_openids)


def _int_field(body: dict[str, Any], name: str) -> int:
    value = body.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**12:
        raise ValidationFailed(f"{name} must be a non-negative integer", code="invalid_parameter")
    return value


def _coordinate(body: dict[str, Any], name: str, limit: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not -limit <= value <= limit:
        raise ValidationFailed(f"{name} is out of range", code="invalid_coordinates")
    return float(value)


@emergency_bp.get("/incidents")
@openapi.summary("Incident board")
@openapi.parameter("status", str, "query", description="reported|dispatched|on_scene|closed")
@openapi.response(200, {"application/json": {"items": list}})
@error_responses(400)
@require(Role.STAFF)
async def incident_board(request: Request) -> HTTPResponse:
    status = text_arg(request, "status", max_length=16)
    if status and status not in IncidentStatus.__members__.values():
        raise ValidationFailed("unknown status", code="invalid_parameter")
    return json({"items": await emergency_queries.board(status=status)})


@emergency_bp.post("/incidents")
@openapi.summary("Report an incident (staff intake)")
@openapi.body(
    {
        "application/json": {
            "incident_type": str,
            "title": str,
            "address": str,
            "lat": float,
            "lng": float,
            "deaths": int,
            "serious_injuries": int,
            "site_code": str,
        }
    }
)
@openapi.response(201, {"application/json": dict})
@error_responses(400)
@require(Role.STAFF)
async def create_incident(request: Request) -> HTTPResponse:
    actor = _commander(request)
    body = json_body(request)
    raw_type = body_text(body, "incident_type", max_length=24)
    if raw_type not in IncidentType.__members__.values():
        raise ValidationFailed("unknown incident_type", code="invalid_incident_type")
    report = IncidentReport(
        source="staff",
        source_ref=body_text(body, "request_id", max_length=64, required=False) or None,
        incident_type=IncidentType(raw_type),
        title=body_text(body, "title", max_length=100),
        description=body_text(body, "description", max_length=4000, required=False),
        site_code=body_text(body, "site_code", max_length=24, required=False),
        address=body_text(body, "address", max_length=200, required=False),
        lat=_coordinate(body, "lat", 90),
        lng=_coordinate(body, "lng", 180),
        deaths=_int_field(body, "deaths"),
        serious_injuries=_int_field(body, "serious_injuries"),
        minor_injuries=_int_field(body, "minor_injuries"),
        trapped=_int_field(body, "trapped"),
        direct_loss_yuan=_int_field(body, "direct_loss_yuan"),
        occurred_at=_now(),
    )
    incident, _created = await emergency.report_incident(
        report, actor=actor, duty_openids=await duty_openids(request)
    )
    return json(await emergency_queries.detail(incident.code or ""), status=201)


@emergency_bp.get("/incidents/<code:str>")
@openapi.summary("Incident detail with timeline, dispatches and reporting clocks")
@openapi.response(200, {"application/json": dict})
@error_responses(404)
@require(Role.STAFF)
async def incident_detail(request: Request, code: str) -> HTTPResponse:
    return json(await emergency_queries.detail(code[:24]))


@emergency_bp.patch("/incidents/<code:str>")
@openapi.summary("Update casualties, loss, status or location (re-grades automatically)")
@openapi.body({"application/json": {"deaths": int, "serious_injuries": int, "status": str, "address": str}})
@openapi.response(200, {"application/json": dict})
@error_responses(400, 404)
@require(Role.STAFF)
async def update_incident(request: Request, code: str) -> HTTPResponse:
    actor = _commander(request)
    body = json_body(request)
    changes: dict[str, Any] = {
        name: _int_field(body, name)
        for name in ("deaths", "serious_injuries", "minor_injuries", "trapped", "direct_loss_yuan")
        if name in body
    }
    if "status" in body:
        status = body_text(body, "status", max_length=16)
        if status not in IncidentStatus.__members__.values():
            raise ValidationFailed("unknown status", code="invalid_parameter")
        changes["status"] = status
    if "address" in body:
        changes["address"] = body_text(body, "address", max_length=200)
    for name, limit in (("lat", 90), ("lng", 180)):
        if name in body:
            changes[name] = _coordinate(body, name, limit)
    if not changes:
        raise ValidationFailed("nothing to update", code="empty_update")
    await emergency.update_incident(code[:24], actor=actor, now=_now(), changes=changes)
    return json(await emergency_queries.detail(code[:24]))


@emergency_bp.get("/incidents/<code:str>/plan")
@openapi.summary("The generated response plan (JSON; add ?format=html for a printable page)")
@openapi.parameter("format", str, "query")
@openapi.response(200, {"application/json": dict})
@error_responses(404)
@require(Role.STAFF)
async def incident_plan(request: Request, code: str) -> HTTPResponse:
    plan = emergency.plan_as_dict(await emergency.plan_for(code[:24], geo=infra_of(request).geo, now=_now()))
    if text_arg(request, "format", max_length=8) == "html":
        return html(plan_html(plan))
    return json(plan)


@emergency_bp.get("/incidents/<code:str>/report")
@openapi.summary("After-action report (printable HTML)")
@openapi.response(200, {"text/html": str})
@error_responses(404)
@require(Role.STAFF)
async def incident_report(request: Request, code: str) -> HTTPResponse:
    return html(report_html(await emergency_queries.detail(code[:24])))


@emergency_bp.post("/incidents/<code:str>/dispatch")
@openapi.summary("One-click dispatch to the chosen resources and the plan's linked departments")
@openapi.body({"application/json": {"resources": [str]}})
@openapi.response(200, {"application/json": {"dispatched": list}})
@error_responses(400, 404)
@require(Role.STAFF)
async def dispatch_incident(request: Request, code: str) -> HTTPResponse:
    actor = _commander(request)
    body = json_body(request)
    targets = body.get("resources")
    if (
        not isinstance(targets, list)
        or not targets
        or len(targets) > 30
        or not all(isinstance(t, str) and 0 < len(t) <= 32 for t in targets)
    ):
        raise ValidationFailed("resources must be a list of 1-30 resource codes", code="invalid_parameter")
    results = await command.dispatch_with_plan(code[:24], targets=targets, actor=actor, now=_now())
    return json({"dispatched": results})


@emergency_bp.post("/incidents/<code:str>/acknowledge")
@openapi.summary("Record that a dispatched resource or department acknowledged")
@openapi.body({"application/json": {"target": str}})
@openapi.response(200, {"application/json": dict})
@error_responses(404)
@require(Role.STAFF)
async def acknowledge_dispatch(request: Request, code: str) -> HTTPResponse:
    body = json_body(request)
    await emergency.acknowledge(
        code[:24],
        target=body_text(body, "target", max_length=48),
        actor=f"staff:{current(request).subject}",
        now=_now(),
    )
    return json(await emergency_queries.detail(code[:24]))


@emergency_bp.post("/incidents/<code:str>/reported")
@openapi.summary("Mark the report to one level as made (stops its reminder)")
@openapi.body({"application/json": {"level": str}})
@openapi.response(200, {"application/json": dict})
@error_responses(400)
@require(Role.STAFF)
async def mark_reported(request: Request, code: str) -> HTTPResponse:
    actor = _commander(request)
    level = body_text(json_body(request), "level", max_length=16)
    if level not in ReportLevel.__members__.values():
        raise ValidationFailed("level must be county, city, province or state", code="invalid_parameter")
    await emergency.mark_reported(code[:24], level=ReportLevel(level), actor=actor, now=_now())
    return json(await emergency_queries.detail(code[:24]))


@emergency_bp.post("/incidents/<code:str>/close")
@openapi.summary("Close with a summary")
@openapi.body({"application/json": {"summary": str}})
@openapi.response(200, {"application/json": dict})
@error_responses(400, 409)
@require(Role.STAFF)
async def close_incident(request: Request, code: str) -> HTTPResponse:
    actor = _commander(request)
    summary = body_text(json_body(request), "summary", max_length=4000)
    await emergency.close_incident(code[:24], summary=summary, actor=actor, now=_now())
    return json(await emergency_queries.detail(code[:24]))
