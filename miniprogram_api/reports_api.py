"""Report doors: the staff report (JSON, HTML, XLSX, PNG charts), dashboard sections, and the public
transparency figures. ECharts' JavaScript is served from here: no CDN on government networks."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, file, html, json, raw
from sanic_ext import openapi

from domain.accounts.rules import Role
from domain.errors import NotFound, ValidationFailed
from domain.reports.periods import Period, parse_period
from domain.reports.services import ReportEnv, build_report, deployed_report_env, public_transparency
from domain.reports.tables import charts
from miniprogram_api.auth import require
from miniprogram_api.openapi_errors import error_responses
from miniprogram_api.params import text_arg
from miniprogram_api.report_render import ECHARTS_FILE, html_report, png_chart, xlsx_bytes

reports = Blueprint("reports", url_prefix="/api/v1/reports")
transparency = Blueprint("transparency", url_prefix="/api/v1/public")
report_static = Blueprint("report_static")

SECTIONS = ("projects", "approvals", "complaints", "alarms", "credit", "emergencies", "transparency")
FORMATS = ("json", "html", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JS_HOST = "/static/"
# A built report is reused for a few minutes: the dashboard asks for each section and chart
# separately, and a city-scale month takes seconds to aggregate.
REPORT_TTL_S = 300.0
_env: list[ReportEnv] = []


async def _report_env() -> ReportEnv:
    # The configuration files change with a deploy, not at run time: read them once per process.
    if not _env:
        _env.append(deployed_report_env())
    return _env[0]


def _period(text: str) -> Period:
    if len(text) > 8:
        raise ValidationFailed("period must look like 2026-10, 2026-Q3 or 2026", code="invalid_period")
    return parse_period(text)


def _cache(request: Request) -> dict[str, tuple[float, dict[str, Any]]]:
    """Per app (never shared between apps on different databases)."""
    cache: dict[str, tuple[float, dict[str, Any]]] | None = getattr(request.app.ctx, "report_cache", None)
    if cache is None:
        cache = request.app.ctx.report_cache = {}
    return cache


async def _report(request: Request, period_text: str) -> dict[str, Any]:
    period = _period(period_text)
    built = _cache(request)
    cached = built.get(period.key)
    if cached is not None and time.monotonic() - cached[0] < REPORT_TTL_S:
        return cached[1]
    data = await build_report(period, await _report_env(), now=dt.datetime.now(dt.UTC))
    if len(built) > 32:  # bounded: a few dozen periods at most
        built.clear()
    built[period.key] = (time.monotonic(), data)
    return data


@reports.get("/<period:str>")
@openapi.summary("The report of a month (2026-10), quarter (2026-Q3) or year (2026)")
@openapi.parameter("period", str, "path", required=True)
@openapi.parameter("format", str, "query", description="json (default), html or xlsx")
@openapi.response(200, {"application/json": dict, "text/html": str, XLSX_TYPE: bytes})
@error_responses(400, 401, 403)
@require(Role.STAFF)
async def report(request: Request, period: str) -> HTTPResponse:
    output = text_arg(request, "format", max_length=8) or "json"
    if output not in FORMATS:
        raise ValidationFailed("format must be json, html or xlsx", code="invalid_parameter")
    data = await _report(request, period)
    if output == "html":
        return html(await asyncio.to_thread(html_report, data, js_host=JS_HOST))
    if output == "xlsx":
        body = await asyncio.to_thread(xlsx_bytes, data)
        name = f"report-{data['period']['key']}.xlsx"
        return raw(
            body, content_type=XLSX_TYPE, headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )
    return json(data)


@reports.get("/<period:str>/sections/<section:str>")
@openapi.summary("One section of the report, for the staff dashboard")
@openapi.parameter("period", str, "path", required=True)
@openapi.parameter("section", str, "path", required=True, description="|".join(SECTIONS))
@openapi.response(200, {"application/json": dict})
@error_responses(400, 401, 403, 404)
@require(Role.STAFF)
async def section(request: Request, period: str, section: str) -> HTTPResponse:
    if section not in (*SECTIONS, "comparison"):
        raise NotFound(f"no section {section[:40]}", code="report_section_not_found")
    data = await _report(request, period)
    body = data["comparison"] if section == "comparison" else data["sections"][section]
    return json({"period": data["period"], "section": section, "data": body})


@reports.get("/<period:str>/charts/<name:str>")
@openapi.summary("One chart of the report as an 800x450 PNG with Chinese labels")
@openapi.parameter("period", str, "path", required=True)
@openapi.parameter("name", str, "path", required=True, description="chart name, e.g. complaints_by_type.png")
@openapi.response(200, {"image/png": bytes})
@error_responses(400, 401, 403, 404)
@require(Role.STAFF)
async def chart(request: Request, period: str, name: str) -> HTTPResponse:
    wanted = name.removesuffix(".png")
    data = await _report(request, period)
    found = next((c for c in charts(data) if c.name == wanted), None)
    if found is None:
        raise NotFound(f"no chart {wanted[:40]}", code="report_chart_not_found")
    return raw(await asyncio.to_thread(png_chart, found), content_type="image/png")


@transparency.get("/transparency/<period:str>")
@openapi.summary("Public: dust compliance rate and complaint response rate per town (no personal data)")
@openapi.parameter("period", str, "path", required=True)
@openapi.response(200, {"application/json": dict})
@error_responses(400)
async def public(request: Request, period: str) -> HTTPResponse:
    return json(await public_transparency(_period(period), await _report_env()))


@report_static.get("/static/echarts.min.js")
@openapi.exclude()
async def echarts_js(request: Request) -> HTTPResponse:
    """ECharts 6 from the npm package ``echarts`` (Apache-2.0), vendored: nothing is fetched at run time."""
    return await file(
        ECHARTS_FILE, mime_type="application/javascript", headers={"Cache-Control": "max-age=86400"}
    )
