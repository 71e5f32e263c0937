"""Emergency board (应急指挥): the incident list with its reporting clocks (polled by htmx), and one
incident with its timeline, response plan, nearest resources on a Leaflet map and one-click dispatch,
acknowledgements, report-up marks, arrival and closing. Same services and the same rules as
``/api/v1/emergency``: every staff member reads the board; commanding is the emergency and housing
departments' (``domain.emergency.command``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect
from sanic_ext import openapi

from console import labels
from console.forms import arg_text, form_text
from console.guard import current, page
from console.templating import render
from domain.accounts.rules import Role
from domain.emergency import command, services
from domain.emergency import queries as emergency_queries
from domain.emergency.rules import IncidentStatus, ReportLevel
from domain.errors import ValidationFailed
from domain.ports import GeoIndex

console_emergency = Blueprint("console_emergency", url_prefix="/console/emergency")
STAFF = (Role.STAFF,)
CODE_LENGTH = 24  # as the API: longer codes are cut, and then not found
DEFAULT_CENTER = (28.37, 121.37)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _back(code: str, done: str) -> HTTPResponse:
    return redirect(f"/console/emergency/{code}?done={done}", status=303)


async def _board_context() -> dict[str, Any]:
    now = _now()
    return {"incidents": await command.board_open_first(now=now), "refreshed_at": now}


@console_emergency.get("/")
@openapi.exclude()
@page(*STAFF)
async def board_page(request: Request) -> HTTPResponse:
    return render(request, "emergency.html", **await _board_context())


@console_emergency.get("/rows")
@openapi.exclude()
@page(*STAFF)
async def board_rows(request: Request) -> HTTPResponse:
    """The table body alone: htmx polls it so new incidents appear without a reload."""
    return render(request, "_emergency_rows.html", **await _board_context())


@console_emergency.get("/<code:str>")
@openapi.exclude()
@page(*STAFF)
async def incident_page(request: Request, code: str) -> HTTPResponse:
    code, now = code[:CODE_LENGTH], _now()
    incident = await emergency_queries.detail(code)
    plan = await services.plan_for(code, geo=cast(GeoIndex, request.app.ctx.infra.geo), now=now)
    may_command = command.may_command(current(request))
    dispatched = {row["target"] for row in incident["dispatches"]}
    located = incident["lat"] is not None and incident["lng"] is not None
    center = (incident["lat"], incident["lng"]) if located else DEFAULT_CENTER
    map_config = {
        "tile_url": request.app.ctx.settings.console_map_tile_url,
        "basemap_url": "/console/static/basemap/wenling-demo.geojson",
        "center": list(center),
        "features": await command.map_features(incident, plan),
        "dispatch_url": f"/console/emergency/{code}/dispatch" if may_command else "",
        "dispatched": sorted(dispatched),
        "labels": {"capability": labels.RESOURCE_CAPABILITIES, "resource_kind": labels.RESOURCE_KINDS},
    }
    return render(
        request,
        "emergency_incident.html",
        incident=incident,
        clock=command.clocks_at(incident, now=now),
        plan=plan,
        dispatched=dispatched,
        resource_names={choice.code: choice.name for choice in plan.resources},
        may_command=may_command,
        map_config=map_config,
        done=arg_text(request, "done", max_length=16),
    )


@console_emergency.post("/<code:str>/dispatch")
@openapi.exclude()
@page(*STAFF)
async def dispatch(request: Request, code: str) -> HTTPResponse:
    """One click per resource, as ``POST /api/v1/emergency/incidents/{code}/dispatch``."""
    code = code[:CODE_LENGTH]
    actor = command.commander(current(request))
    target = form_text(request, "resource", max_length=32, required=True)
    results = await command.dispatch_with_plan(code, targets=[target], actor=actor, now=_now())
    new = any(row["target"] == target and row["new"] for row in results)
    return _back(code, "dispatched" if new else "already")


@console_emergency.post("/<code:str>/acknowledge")
@openapi.exclude()
@page(*STAFF)
async def acknowledge(request: Request, code: str) -> HTTPResponse:
    code = code[:CODE_LENGTH]
    target = form_text(request, "target", max_length=48, required=True)
    actor = f"staff:{current(request).subject}"
    await services.acknowledge(code, target=target, actor=actor, now=_now())
    return _back(code, "acknowledged")


@console_emergency.post("/<code:str>/reported")
@openapi.exclude()
@page(*STAFF)
async def mark_reported(request: Request, code: str) -> HTTPResponse:
    code = code[:CODE_LENGTH]
    actor = command.commander(current(request))
    level = form_text(request, "level", max_length=16, required=True)
    if level not in ReportLevel.__members__.values():
        raise ValidationFailed("level must be county, city, province or state", code="invalid_parameter")
    await services.mark_reported(code, level=ReportLevel(level), actor=actor, now=_now())
    return _back(code, "reported_up")


@console_emergency.post("/<code:str>/on_scene")
@openapi.exclude()
@page(*STAFF)
async def on_scene(request: Request, code: str) -> HTTPResponse:
    code = code[:CODE_LENGTH]
    actor = command.commander(current(request))
    changes = {"status": IncidentStatus.ON_SCENE.value}
    await services.update_incident(code, actor=actor, now=_now(), changes=changes)
    return _back(code, "on_scene")


@console_emergency.post("/<code:str>/close")
@openapi.exclude()
@page(*STAFF)
async def close(request: Request, code: str) -> HTTPResponse:
    code = code[:CODE_LENGTH]
    actor = command.commander(current(request))
    summary = form_text(request, "summary", max_length=4000, required=True)
    await services.close_incident(code, summary=summary, actor=actor, now=_now())
    return _back(code, "closed")
