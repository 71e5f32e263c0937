"""Sensor device health for staff: every registered device's life cycle (未接入: never reported,
在线, 离线: reported and then silent past its interval × k) and the HJ 212 frames held in quarantine
(wrong password, unknown MN, bad time), with counts. Same services as ``GET /api/v1/device-health``
and ``GET /api/v1/iot/quarantine``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from console.forms import arg_int, arg_text
from console.guard import page
from console.templating import render
from domain.accounts.rules import Role
from domain.alerts import device_health
from domain.alerts.rules import DeviceStatus
from domain.iot import services as iot_records

console_devices = Blueprint("console_devices", url_prefix="/console/devices")
MAX_LISTED = 500  # a site filter narrows a city's 3,000 devices; the counts are always whole
QUARANTINE_SHOWN = 20


@console_devices.get("/")
@openapi.exclude()
@page(Role.STAFF)
async def devices_page(request: Request) -> HTTPResponse:
    now = dt.datetime.now(dt.UTC)
    site_code = arg_text(request, "site_code", max_length=24).upper()
    status_text = arg_text(request, "status", max_length=20)
    status = device_health.parse_status(status_text) if status_text else None
    hours = arg_int(request, "hours", default=24, low=1, high=720)
    health: dict[str, Any] = await device_health.device_health(now=now, site_code=site_code, status=status)
    quarantine = await iot_records.quarantine(
        since=now - dt.timedelta(hours=hours), page=1, page_size=QUARANTINE_SHOWN
    )
    return render(
        request,
        "devices.html",
        items=health["items"][:MAX_LISTED],
        listed_all=len(health["items"]) <= MAX_LISTED,
        counts=health["counts"],
        statuses=[s.value for s in DeviceStatus],
        site_code=site_code,
        selected_status=status.value if status else "",
        hours=hours,
        quarantine=quarantine,
    )
