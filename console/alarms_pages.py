"""Alarm pages: the list (filters, polled by htmx) and the map (Leaflet over the same GeoJSON layers
as ``/api/v1/exchange/geo``), one alarm with its timeline, acknowledge, and the labelling verdict on
a camera alarm (as ``POST /api/v1/alerts/{id}/verdict``). Staff see every site, as in
``/api/v1/alerts``."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from urllib.parse import urlencode

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, redirect
from sanic_ext import openapi

from console import labels
from console.evidence_pages import panel as evidence_panel
from console.forms import arg_enum, arg_int, arg_text, form_text
from console.guard import current, page
from console.templating import render
from domain.accounts.rules import Principal, Role
from domain.alerts import queries, services
from domain.alerts.messages import CAMERA_TYPES
from domain.alerts.rules import AlarmState, Severity
from domain.exchange import geo
from domain.vision import samples
from domain.vision.sample_rules import MAX_NOTE, parse_verdict

console_alarms = Blueprint("console_alarms", url_prefix="/console")
STAFF = (Role.STAFF,)
PAGE_SIZE = 20
MAP_LAYERS = ("sites", "active_alarms", "open_complaints", "cameras", "emergency_resources")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _actor(principal: Principal) -> str:
    return f"{principal.role.value}:{principal.subject}"[:64]


def _query(request: Request) -> queries.AlarmQuery:
    site = arg_text(request, "site_code", max_length=24).upper()
    return queries.AlarmQuery(
        site_codes=(site,) if site else None,
        state=arg_enum(request, "state", AlarmState),
        open_only=arg_text(request, "open", max_length=5) in ("1", "true"),
        severity=arg_enum(request, "severity", Severity),
        alarm_type=arg_text(request, "alarm_type", max_length=48),
        page=arg_int(request, "page", default=1, low=1, high=100_000),
        page_size=PAGE_SIZE,
    )


async def _list_context(request: Request) -> dict[str, Any]:
    query = _query(request)
    result = await queries.list_alarms(query)
    return {
        "result": result,
        "filters": query,
        "site_code": query.site_codes[0] if query.site_codes else "",
        "pages": max(1, math.ceil(result["total"] / PAGE_SIZE)),
        "query": request.query_string,
        "pager_query": urlencode([(k, v) for k, v in request.query_args if k != "page"]),
        "refreshed_at": _now(),
    }


@console_alarms.get("/alarms")
@openapi.exclude()
@page(*STAFF)
async def alarms_page(request: Request) -> HTTPResponse:
    settings = request.app.ctx.settings
    map_config = {
        "tile_url": settings.console_map_tile_url,
        "basemap_url": "/console/static/basemap/wenling-demo.geojson",
        "layers": {name: f"/console/geo/{name}" for name in MAP_LAYERS},
        "labels": {
            "severity": labels.ALARM_SEVERITIES,
            "alarm_state": labels.ALARM_STATES,
            "alarm_type": labels.ALARM_TYPES,
            "complaint_state": labels.COMPLAINT_STATES,
            "resource_kind": labels.RESOURCE_KINDS,
        },
        "center": [28.37, 121.37],
    }
    return render(
        request,
        "alarms.html",
        map_config=map_config,
        done=arg_text(request, "done", max_length=16),
        **await _list_context(request),
    )


@console_alarms.get("/alarms/rows")
@openapi.exclude()
@page(*STAFF)
async def alarm_rows(request: Request) -> HTTPResponse:
    """The table body alone: htmx polls it so new alarms appear without a reload."""
    return render(request, "_alarm_rows.html", **await _list_context(request))


@console_alarms.get("/alarms/<alarm_id:int>")
@openapi.exclude()
@page(*STAFF)
async def alarm_page(request: Request, alarm_id: int) -> HTTPResponse:
    alarm = await services.alarm_detail(alarm_id, openid=None)
    camera = alarm["alarm_type"] in CAMERA_TYPES and bool(alarm["evidence_ref"])
    return render(
        request,
        "alarm.html",
        alarm=alarm,
        evidence=await evidence_panel("alarm", str(alarm_id)),
        done=arg_text(request, "done", max_length=16),
        camera_alarm=camera,
        sample=await samples.sample_of(alarm_id) if camera else None,
    )


@console_alarms.post("/alarms/<alarm_id:int>/acknowledge")
@openapi.exclude()
@page(*STAFF)
async def acknowledge(request: Request, alarm_id: int) -> HTTPResponse:
    await services.acknowledge(alarm_id, actor=_actor(current(request)), openid=None, at=_now())
    back = (
        "/console/alarms"
        if arg_text(request, "from", max_length=8) == "list"
        else f"/console/alarms/{alarm_id}"
    )
    return redirect(f"{back}?done=acknowledged", status=303)


@console_alarms.post("/alarms/<alarm_id:int>/verdict")
@openapi.exclude()
@page(*STAFF)
async def verdict(request: Request, alarm_id: int) -> HTTPResponse:
    """The page's form keeps the model's boxes; redrawing them is the API's (``boxes``)."""
    given = parse_verdict(
        {
            "verdict": form_text(request, "verdict", max_length=16, required=True),
            "note": form_text(request, "note", max_length=MAX_NOTE),
        }
    )
    await samples.record_verdict(alarm_id, given, actor=_actor(current(request)), at=_now())
    return redirect(f"/console/alarms/{alarm_id}?done={given.verdict.value}", status=303)


@console_alarms.get("/geo/<layer:str>")
@openapi.exclude()
@page(*STAFF)
async def geo_layer(request: Request, layer: str) -> HTTPResponse:
    """The map's data: the GIS layers staff may read through the API, by the same query."""
    return json(await geo.layer(layer[:32]), content_type="application/geo+json")
