"""Admin pages: the outbox with delivery states (admins only, as ``GET /api/v1/admin/outbox``)."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from console.forms import arg_enum, arg_int, arg_text
from console.guard import page
from console.templating import render
from domain.accounts.rules import Role
from domain.notifications import services
from domain.notifications.rules import OutboxStatus

console_admin = Blueprint("console_admin", url_prefix="/console/admin")
PAGE_SIZE = 30


@console_admin.get("/outbox")
@openapi.exclude()
@page(Role.ADMIN)
async def outbox_page(request: Request) -> HTTPResponse:
    status = arg_enum(request, "status", OutboxStatus)
    category = arg_text(request, "category", max_length=32)
    number = arg_int(request, "page", default=1, low=1, high=100_000)
    result = await services.list_outbox(status=status, category=category, page=number, page_size=PAGE_SIZE)
    return render(
        request,
        "outbox.html",
        items=result.items,
        total=result.total,
        selected_status=status.value if status else "",
        category=category,
        number=number,
        pages=max(1, math.ceil(result.total / PAGE_SIZE)),
        pager_query=urlencode([(k, v) for k, v in request.query_args if k != "page"]),
    )
