"""Staff API for the duty rosters that escalations go to: list them, replace one department's.

Any staff member reads every roster; a staff member edits only their own department's; admins edit
any, the ``default`` roster included.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from domain.accounts.rules import Role
from domain.errors import ValidationFailed
from domain.notifications import escalation
from miniprogram_api.auth import current, json_body, require
from miniprogram_api.openapi_errors import error_responses
from miniprogram_api.params import text_arg

duty_roster = Blueprint("duty_roster", url_prefix="/api/v1/staff/duty-roster")

ENTRY_SCHEMA = {"name": str, "openid": str, "phone": str}
LISTED_SCHEMA = {
    "department": str,
    "name": str,
    "openid": str,
    "phone": str,
    "updated_by": str,
    "updated_at": str,
}


def _members(body: dict[str, Any]) -> list[escalation.RosterMember]:
    entries = body.get("entries")
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise ValidationFailed("entries must be a list of objects", code="invalid_roster")
    members = []
    for entry in entries:
        values = {name: entry.get(name, "") for name in ("name", "openid", "phone")}
        if not all(isinstance(value, str) for value in values.values()):
            raise ValidationFailed("name, openid and phone must be strings", code="invalid_roster")
        members.append(escalation.RosterMember(**values))
    return members


@duty_roster.get("/")
@openapi.summary("The duty rosters escalations go to (openids and phones masked)")
@openapi.parameter("department", str, "query", description="one department, or all when absent")
@openapi.response(200, {"application/json": {"items": [LISTED_SCHEMA]}})
@error_responses(400, 401, 403)
@require(Role.STAFF)
async def list_roster(request: Request) -> HTTPResponse:
    department = text_arg(request, "department", max_length=32)
    return json({"items": await escalation.list_roster(department)})


@duty_roster.put("/<department:str>")
@openapi.summary("Replace one department's duty roster (own department, or any for admins)")
@openapi.body({"application/json": {"entries": [ENTRY_SCHEMA]}})
@openapi.response(200, {"application/json": {"items": [LISTED_SCHEMA]}})
@error_responses(400, 401, 403)
@require(Role.STAFF)
async def replace_roster(request: Request, department: str) -> HTTPResponse:
    principal = current(request)
    escalation.check_roster_editor(principal, department)
    items = await escalation.replace_roster(
        department[:32],
        _members(json_body(request)),
        actor=f"account:{principal.subject}",
        now=dt.datetime.now(dt.UTC),
    )
    return json({"items": items})
