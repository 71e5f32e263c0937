"""Admin view of the outbox: what was sent, recorded (no credentials) or is still waiting, and why."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from domain.accounts.rules import Role
from domain.errors import ValidationFailed
from domain.notifications import services
from domain.notifications.rules import OutboxStatus
from miniprogram_api.auth import require
from miniprogram_api.openapi_errors import error_responses
from miniprogram_api.params import int_arg, text_arg

admin_outbox = Blueprint("admin_outbox", url_prefix="/api/v1/admin")

MAX_PAGE_SIZE = 100


def _status(request: Request) -> OutboxStatus | None:
    raw = text_arg(request, "status", max_length=32)
    if not raw:
        return None
    try:
        return OutboxStatus(raw)
    except ValueError as error:
        allowed = "|".join(status.value for status in OutboxStatus)
        raise ValidationFailed(f"status must be one of {allowed}", code="invalid_parameter") from error


@admin_outbox.get("/outbox")
@openapi.summary("List outbox messages (admins only), newest first")
@openapi.parameter(
    "status",
    str,
    "query",
    description="pending|sending|sent|recorded|failed|waiting_for_interaction|dropped",
)
@openapi.parameter("category", str, "query", description="e.g. alarm, complaint_reply, admin_alert")
@openapi.parameter("page", int, "query")
@openapi.parameter("page_size", int, "query", description="1..100")
@openapi.response(
    200,
    {"application/json": {"items": list, "total": int, "page": int, "page_size": int, "counters": dict}},
    "counters: failed, failed_alerted (final failures the admins were told about), unconfirmed",
)
@error_responses(400, 401, 403)
@require(Role.ADMIN)
async def list_outbox(request: Request) -> HTTPResponse:
    status = _status(request)
    category = text_arg(request, "category", max_length=32)
    page = int_arg(request, "page", default=1, low=1, high=100_000)
    page_size = int_arg(request, "page_size", default=20, low=1, high=MAX_PAGE_SIZE)
    result = await services.list_outbox(status=status, category=category, page=page, page_size=page_size)
    counters = await services.outbox_counters()
    return json(
        {
            "items": result.items,
            "total": result.total,
            "page": page,
            "page_size": page_size,
            "counters": counters,
        }
    )
