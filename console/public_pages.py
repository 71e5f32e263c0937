"""Public pages, no login and no personal data, phone first (citizens open them inside WeChat): a
project's progress, milestones, last 7 days of dust and noise against the limits and complaint
counts; the city's monthly transparency figures. Same services as the public API."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from console.forms import arg_text
from console.guard import error_page
from console.reports_pages import report_env
from console.templating import render
from domain.alerts.readings import daily_means, sites_of_project
from domain.complaints.queries import project_counts
from domain.errors import DomainError, ValidationFailed
from domain.projects.services import project_details
from domain.reports.periods import parse_period
from domain.reports.services import public_transparency

public_pages = Blueprint("public_pages", url_prefix="/p")
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
DAYS = 7


def _bars(series: list[dict[str, Any]], metric: str, limit: float) -> list[dict[str, Any]]:
    """Each day's value as a share of a scale that always shows the limit (a bar never overflows)."""
    values = [float(day[metric]) for day in series if isinstance(day[metric], (int, float))]
    scale = max([limit * 1.25, *values])
    return [
        {
            "day": str(day["day"])[5:],
            "value": day[metric],
            "pct": round(100 * float(day[metric]) / scale, 1) if isinstance(day[metric], (int, float)) else 0,
            "over": isinstance(day[metric], (int, float)) and float(day[metric]) > limit,
        }
        for day in series
    ]


@public_pages.get("/projects/<code:str>")
@openapi.exclude()
async def project_page(request: Request, code: str) -> HTTPResponse:
    try:
        project = await project_details(code[:24])
        sites = await sites_of_project(project["code"])
        series = await daily_means(sites, days=DAYS, now=dt.datetime.now(dt.UTC)) if sites else []
        env = await report_env(request)
        counts = await project_counts(project["code"])
    except DomainError as error:
        return error_page(request, error)
    noise_limit = request.app.ctx.settings.console_public_noise_day_limit_db
    return render(
        request,
        "public_project.html",
        project=project,
        counts=counts,
        dust=_bars(series, "pm10", env.pm10_hour_limit),
        noise=_bars(series, "leq_db", noise_limit),
        pm10_limit=env.pm10_hour_limit,
        noise_limit=noise_limit,
        public=True,
    )


@public_pages.get("/transparency")
@openapi.exclude()
async def transparency_page(request: Request) -> HTTPResponse:
    try:
        text = arg_text(request, "period", max_length=8) or dt.datetime.now(LOCAL_TZ).strftime("%Y-%m")
        try:
            period = parse_period(text)
        except ValueError as error:
            raise ValidationFailed("period looks like 2026-10", code="invalid_period") from error
        figures = await public_transparency(period, await report_env(request))
    except DomainError as error:
        return error_page(request, error)
    return render(request, "public_transparency.html", figures=figures, period=period.key, public=True)
