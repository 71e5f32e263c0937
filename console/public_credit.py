"""Public credit lookup (``/p/credit``): no login, phone first. Enterprises by name or unified social
credit code with their grade and the records that count today, exactly what ``GET
/api/v1/credit/public`` returns (no internal notes, no people, no contact details)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from console.forms import arg_text
from console.guard import error_page
from console.templating import render
from domain.credit import queries, services
from domain.errors import DomainError, ValidationFailed

public_credit = Blueprint("public_credit", url_prefix="/p/credit")
MIN_QUERY = 2
MAX_QUERY = 64


async def _lookup(request: Request) -> tuple[str, list[dict[str, Any]]]:
    query = arg_text(request, "q", max_length=MAX_QUERY)
    if not query:
        return "", []
    if len(query) < MIN_QUERY:
        raise ValidationFailed(
            f"请输入至少 {MIN_QUERY} 个字的企业名称或统一社会信用代码", code="invalid_parameter"
        )
    today = services.local_day(dt.datetime.now(dt.UTC))
    return query, await queries.public_lookup(query, as_of=today, catalogue=services.rule_catalogue())


@public_credit.get("/")
@openapi.exclude()
async def search_page(request: Request) -> HTTPResponse:
    try:
        query, items = await _lookup(request)
    except DomainError as error:
        return error_page(request, error)
    return render(request, "public_credit.html", q=query, items=items, public=True)
