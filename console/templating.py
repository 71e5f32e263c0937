"""Jinja2 rendering for the console and the public pages: one environment (autoescape on for every
template), Chinese labels and Asia/Shanghai times as filters, and the security headers of a page."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from sanic import Request
from sanic.response import HTTPResponse, html

from console import labels

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_URL = "/console/static"
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
VENDOR = {
    "htmx": f"{STATIC_URL}/vendor/htmx-2.0.4/htmx.min.js",
    "echarts": f"{STATIC_URL}/vendor/echarts-6.1.0/echarts.min.js",
    "leaflet_js": f"{STATIC_URL}/vendor/leaflet-1.9.4/leaflet.js",
    "leaflet_css": f"{STATIC_URL}/vendor/leaflet-1.9.4/leaflet.css",
}


def local_time(value: str | dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An ISO time or aware datetime (UTC inside the system) as Asia/Shanghai wall time."""
    if value is None or value == "":
        return "-"
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:  # stored times are UTC; a naive one came from SQLite
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(LOCAL_TZ).strftime(fmt)


def json_script(value: Any) -> Markup:
    """Data for a page script, safe inside ``<script type="application/json">``: ``<``, ``>`` and
    ``&`` are escaped so a value can never close the element."""
    text = json.dumps(value, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above for the script-data context


def build_templates() -> Environment:
    """Built once by the composition root and kept on ``app.ctx.console_templates``."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        enable_async=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local_time"] = local_time
    env.filters["label"] = lambda value, catalog: labels.label(catalog, value)
    env.filters["json_script"] = json_script
    env.globals["vendor"] = VENDOR
    env.globals["static"] = STATIC_URL
    env.globals["catalogs"] = labels.CATALOGS
    return env


def content_security_policy(tile_url: str = "") -> str:
    """Scripts only from this server (page data travels as JSON, never as inline script); images
    may also come from the city's tile server when one is configured."""
    tile_origin = ""
    if tile_url.startswith(("http://", "https://")):
        scheme, _, rest = tile_url.partition("://")
        tile_origin = f" {scheme}://{rest.split('/', 1)[0]}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob:{tile_origin}; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'self'; form-action 'self'"
    )


def render(request: Request, name: str, *, status: int = 200, **context: Any) -> HTTPResponse:
    env = cast(Environment, request.app.ctx.console_templates)
    settings = request.app.ctx.settings
    body = env.get_template(name).render(
        principal=getattr(request.ctx, "principal", None),
        csrf_token=getattr(request.ctx, "csrf_token", ""),
        path=request.path,
        **context,
    )
    headers = {
        "Content-Security-Policy": content_security_policy(settings.console_map_tile_url),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }
    return html(body, status=status, headers=headers)
