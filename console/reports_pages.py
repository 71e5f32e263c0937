"""Report dashboards (month ``2026-10``, quarter ``2026-Q3``, year ``2026``) drawn with the vendored
ECharts, and the XLSX download. The figures come from the same report service as
``/api/v1/reports``; an empty chart says so instead of drawing empty bars."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw
from sanic_ext import openapi

from console.forms import arg_text
from console.guard import page
from console.templating import render
from domain.accounts.rules import Role
from domain.errors import ValidationFailed
from domain.reports.periods import Period, parse_period
from domain.reports.services import ReportEnv, build_report, deployed_report_env
from domain.reports.tables import charts, tables

console_reports = Blueprint("console_reports", url_prefix="/console/reports")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


async def report_env(request: Request) -> ReportEnv:
    # The configuration files change with a deploy, not at run time: read once per app.
    env: ReportEnv | None = getattr(request.app.ctx, "console_report_env", None)
    if env is None:
        env = request.app.ctx.console_report_env = deployed_report_env()
    return env


def _period(request: Request) -> Period:
    text = arg_text(request, "period", max_length=8) or dt.datetime.now(LOCAL_TZ).strftime("%Y-%m")
    try:
        return parse_period(text)
    except ValueError as error:
        raise ValidationFailed("period looks like 2026-10, 2026-Q3 or 2026", code="invalid_period") from error


def chart_data(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What the page script draws: each chart with its values, and whether the period had any."""
    return [
        {
            "name": chart.name,
            "title": chart.title,
            "kind": chart.kind,
            "categories": list(chart.categories),
            "values": list(chart.values),
            "empty": not any(chart.values),
        }
        for chart in charts(report)
    ]


@console_reports.get("/")
@openapi.exclude()
@page(Role.STAFF)
async def dashboard(request: Request) -> HTTPResponse:
    period = _period(request)
    report = await build_report(period, await report_env(request), now=dt.datetime.now(dt.UTC))
    return render(request, "reports.html", report=report, charts=chart_data(report), period=period.key)


def xlsx_bytes(report: Mapping[str, Any]) -> bytes:
    """A cover sheet and one sheet per table of the report (the tables are the report service's)."""
    workbook = Workbook()
    cover = workbook.active
    if cover is None:  # a new workbook always has one sheet
        raise RuntimeError("openpyxl made a workbook without a sheet")
    cover.title = "封面"
    cover.append([report["period"]["title"]])
    cover.append(["统计期间", report["period"]["first_day"], report["period"]["last_day"]])
    for table in tables(report):
        sheet = workbook.create_sheet(table.sheet[:31])
        sheet.append([table.title])
        sheet.append(list(table.headers))
        for row in table.rows:
            sheet.append(["" if cell is None else cell for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@console_reports.get("/download")
@openapi.exclude()
@page(Role.STAFF)
async def download(request: Request) -> HTTPResponse:
    period = _period(request)
    report = await build_report(period, await report_env(request), now=dt.datetime.now(dt.UTC))
    body = await asyncio.to_thread(xlsx_bytes, report)
    name = f"report-{period.key}.xlsx"
    return raw(
        body, content_type=XLSX_TYPE, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
