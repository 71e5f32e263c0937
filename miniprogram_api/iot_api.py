"""IoT intake API (staff): the HJ 212 quarantine (frames not stored and not answered, with counts by
reason) and a device's HJ 212 password."""

from __future__ import annotations

import datetime as dt
import re

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from domain.accounts.rules import Role
from domain.errors import ValidationFailed
from domain.iot import services as iot_records
from domain.projects.services import set_device_password
from miniprogram_api.auth import json_body, require
from miniprogram_api.context import infra_of
from miniprogram_api.openapi_errors import error_responses
from miniprogram_api.params import int_arg, text_arg

iot = Blueprint("iot", url_prefix="/api/v1/iot")
DEVICE_CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


def _device_code(value: str) -> str:
    if not DEVICE_CODE_RE.fullmatch(value):
        raise ValidationFailed(
            "a device code is 1-40 letters, digits, '_', '.' or '-'", code="invalid_parameter"
        )
    return value


@iot.get("/quarantine")
@openapi.summary("Quarantined HJ 212 frames (wrong PW, unknown MN, bad time), newest first, with counts")
@openapi.parameter("hours", int, "query", description="1..720, default 24")
@openapi.parameter("mn", str, "query", description="one device (MN)")
@openapi.response(200, {"application/json": {"counts": dict, "total": int, "items": list, "page": int}})
@error_responses(400)
@require(Role.STAFF, Role.ADMIN)
async def quarantine(request: Request) -> HTTPResponse:
    hours = int_arg(request, "hours", default=24, low=1, high=720)
    return json(
        await iot_records.quarantine(
            since=dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours),
            mn=_device_code(mn) if (mn := text_arg(request, "mn", max_length=40)) else None,
            page=int_arg(request, "page", default=1, low=1, high=10_000),
            page_size=int_arg(request, "page_size", default=50, low=1, high=iot_records.MAX_PAGE_SIZE),
        )
    )


@iot.put("/devices/<device_code:str>/password")
@openapi.summary("Set (or clear, with an empty string) a device's HJ 212 password; stored sealed")
@openapi.body({"application/json": {"password": str}})
@openapi.response(204, None)
@error_responses(400, 404)
@require(Role.STAFF, Role.ADMIN)
async def device_password(request: Request, device_code: str) -> HTTPResponse:
    _device_code(device_code)
    password = json_body(request).get("password")
    if not isinstance(password, str):
        raise ValidationFailed("password must be a string", code="invalid_parameter")
    await set_device_password(device_code, password)
    return HTTPResponse(status=204)


@iot.post("/devices/<device_code:str>/commands")
@openapi.summary("Send an HJ 212 downlink command: time_sync (CN 1012) or upload_interval (CN 1062)")
@openapi.body({"application/json": {"command": str, "seconds": int}})
@openapi.response(202, {"application/json": {"id": str}})
@error_responses(400, 404)
@require(Role.STAFF, Role.ADMIN)
async def device_command(request: Request, device_code: str) -> HTTPResponse:
    _device_code(device_code)
    body = json_body(request)
    seconds = body.get("seconds", 0)
    if not isinstance(body.get("command"), str) or not isinstance(seconds, int) or isinstance(seconds, bool):
        raise ValidationFailed("command must be a string and seconds an integer", code="invalid_parameter")
    message_id = await iot_records.request_command(
        infra_of(request).bus,
        mn=device_code,
        command=body["command"],
        seconds=seconds,
        now=dt.datetime.now(dt.UTC),
    )
    return json({"id": message_id}, status=202)
