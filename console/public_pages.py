"""Public pages, no login and no personal data, phone first (citizens open them inside WeChat): a
project's progress, milestones, last 7 days of dust and noise against the limits and complaint
counts; the city's monthly transparency figures. Same services as the public API."""

from __future__ import annotations

import datetime as dt
import time
from collections import OrderedDict
from typing import Any
from zoneinfo import ZoneInfo

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from console.forms import arg_text
from console.gantt import gantt
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
MAX_KEPT_PAGES = 2048  # about two pages per active site: bounded memory whatever codes are asked


class RenderedPages:
    """Public pages as rendered, kept a few seconds per worker. The page is the same for every
    citizen (no login, no personal data), and an official-account push sends one link to many people
    at once: without this, each visit ran six queries and the page served about 38 requests/s."""

    def __init__(self, ttl_s: float) -> None:
        self._ttl_s = ttl_s
        self._pages: OrderedDict[str, tuple[float, HTTPResponse]] = OrderedDict()

    def get(self, key: str) -> HTTPResponse | None:
        kept = self._pages.get(key)
        if kept is None or time.monotonic() >= kept[0]:
            return None
        _expires, page = kept
        return HTTPResponse(
            page.body, status=page.status, headers=dict(page.headers), content_type=page.content_type
        )

    def put(self, key: str, page: HTTPResponse) -> None:
        if self._ttl_s <= 0 or page.status != 200:
            return
        self._pages[key] = (time.monotonic() + self._ttl_s, page)
        self._pages.move_to_end(key)
        while len(self._pages) > MAX_KEPT_PAGES:
            self._pages.popitem(last=False)


def _kept_pages(request: Request) -> RenderedPages:
    pages: RenderedPages | None = getattr(request.app.ctx, "public_rendered_pages", None)
    if pages is None:
        pages = request.app.ctx.public_rendered_pages = RenderedPages(
            request.app.ctx.settings.console_public_page_ttl_s
        )
    return pages


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
    kept = _kept_pages(request)
    page = kept.get(code[:24])
    if page is None:
        page = await _render_project_page(request, code[:24])
        kept.put(code[:24], page)
    return page


async def _render_project_page(request: Request, code: str) -> HTTPResponse:
    try:
        project = await project_details(code)
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
        chart=gantt(project, today=dt.datetime.now(LOCAL_TZ).date()),
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
