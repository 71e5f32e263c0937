"""Staff API for the 转人工 queue: list waiting citizens, answer one (the answer goes out via the outbox)."""

from __future__ import annotations

import datetime as dt

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from domain.accounts.rules import Role
from domain.conversations import services
from domain.conversations.rules import ConversationStatus
from domain.errors import ValidationFailed
from miniprogram_api.auth import current, json_body, require
from miniprogram_api.openapi_errors import error_responses
from miniprogram_api.params import int_arg, text_arg

staff_conversations = Blueprint("staff_conversations", url_prefix="/api/v1/staff/conversations")

ANSWER_PREFIX = "【人工客服】"  # shown to the citizen before the staff member's words
CONVERSATION_SCHEMA = {
    "id": int,
    "citizen": str,
    "status": str,
    "question": str,
    "answer": str,
    "answered_by": str,
    "created_at": str,
    "updated_at": str,
    "answered_at": str,
}


def _status(request: Request) -> ConversationStatus | None:
    raw = text_arg(request, "status", max_length=16) or ConversationStatus.WAITING.value
    if raw == "all":
        return None
    try:
        return ConversationStatus(raw)
    except ValueError as error:
        raise ValidationFailed(
            "status must be waiting, answered, closed or all", code="invalid_parameter"
        ) from error


@staff_conversations.get("/")
@openapi.summary("The citizens waiting for a person (转人工), oldest first")
@openapi.parameter("status", str, "query", description="waiting (default), answered, closed or all")
@openapi.parameter("limit", int, "query", description="1..100")
@openapi.parameter("offset", int, "query")
@openapi.response(200, {"application/json": {"items": [CONVERSATION_SCHEMA], "total": int}})
@error_responses(400, 401, 403)
@require(Role.STAFF)
async def list_conversations(request: Request) -> HTTPResponse:
    page = await services.list_queue(
        status=_status(request),
        limit=int_arg(request, "limit", default=20, low=1, high=services.MAX_PAGE_SIZE),
        offset=int_arg(request, "offset", default=0, low=0, high=1_000_000),
    )
    return json(page)


@staff_conversations.post("/<conversation_id:int>/answer")
@openapi.summary("Answer a waiting citizen; the answer is delivered through the WeChat outbox")
@openapi.body({"application/json": {"text": str}})
@openapi.response(200, {"application/json": {**CONVERSATION_SCHEMA, "outbox_id": int}})
@error_responses(400, 401, 403, 404, 409)
@require(Role.STAFF)
async def answer_conversation(request: Request, conversation_id: int) -> HTTPResponse:
    body = json_body(request)
    text = body.get("text")
    if not isinstance(text, str):
        raise ValidationFailed("text is required", code="invalid_answer")
    principal = current(request)
    result = await services.answer(
        conversation_id,
        text=ANSWER_PREFIX + text.strip() if text.strip() else "",
        staff=principal.subject,
        now=dt.datetime.now(dt.UTC),
    )
    return json(result)
