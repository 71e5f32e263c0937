"""Use cases of the staff queue: a citizen asks for a person, staff list the queue and answer.

The answer reaches the citizen through the notifications outbox (``enqueue``), whose idempotency key
is derived from the conversation and its answer number, so a retried answer is never sent twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.accounts.rules import mask_openid
from domain.conversations.models import StaffConversation
from domain.conversations.rules import ConversationStatus, check_transition, clean_answer, clean_question
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.notifications.services import enqueue

NOTIFICATION_CATEGORY = "staff_reply"
MAX_PAGE_SIZE = 100


async def request_human(openid: str, *, question: str, now: dt.datetime) -> int:
    """Queue the citizen for a person: one open conversation per citizen (asking again adds to it)."""
    text = clean_question(question)
    latest = await StaffConversation.filter(openid=openid).order_by("-id").first()
    if latest is None:
        created = await StaffConversation.create(
            openid=openid, question=text, status=ConversationStatus.WAITING, created_at=now, updated_at=now
        )
        return int(created.id)
    if latest.status is not ConversationStatus.WAITING:
        check_transition(latest.status, ConversationStatus.WAITING)
        latest.status = ConversationStatus.WAITING
        latest.question = text
    elif text and text not in latest.question:
        latest.question = clean_question(f"{latest.question}\n{text}")
    latest.updated_at = now
    await latest.save(update_fields=["status", "question", "updated_at"])
    return int(latest.id)


def _row(conversation: StaffConversation) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "citizen": mask_openid(conversation.openid),
        "status": conversation.status.value,
        "question": conversation.question,
        "answer": conversation.answer,
        "answered_by": conversation.answered_by,
        "created_at": conversation.created_at.isoformat(),
        "updated_at": conversation.updated_at.isoformat(),
        "answered_at": conversation.answered_at.isoformat() if conversation.answered_at else None,
    }


async def list_queue(
    *, status: ConversationStatus | None = ConversationStatus.WAITING, limit: int = 20, offset: int = 0
) -> dict[str, Any]:
    """Oldest first: the queue is served in order. Citizens appear masked, never by full openid."""
    if not (1 <= limit <= MAX_PAGE_SIZE) or offset < 0:
        raise ValidationFailed(f"limit must be 1..{MAX_PAGE_SIZE} and offset >= 0", code="invalid_page")
    queryset = StaffConversation.all() if status is None else StaffConversation.filter(status=status)
    total = await queryset.count()
    rows = await queryset.order_by("updated_at", "id").offset(offset).limit(limit)
    return {"items": [_row(row) for row in rows], "total": total}


async def answer(conversation_id: int, *, text: str, staff: str, now: dt.datetime) -> dict[str, Any]:
    """Answer a waiting conversation once; concurrent answers race on a conditional update, one wins."""
    body = clean_answer(text)
    if not 0 < conversation_id < 2**31:
        raise NotFound(f"no conversation {conversation_id}", code="conversation_not_found")
    conversation = await StaffConversation.get_or_none(id=conversation_id)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}", code="conversation_not_found")
    check_transition(conversation.status, ConversationStatus.ANSWERED)
    number = conversation.answers_sent + 1
    claimed = await StaffConversation.filter(
        id=conversation_id, status=ConversationStatus.WAITING, answers_sent=conversation.answers_sent
    ).update(
        status=ConversationStatus.ANSWERED,
        answers_sent=number,
        answer=body,
        answered_by=staff[:64],
        answered_at=now,
        updated_at=now,
    )
    if claimed != 1:
        raise Conflict("someone else answered this conversation first", code="conversation_state_conflict")
    try:
        outbox_id = await enqueue(
            recipient_openid=conversation.openid,
            text=body,
            idempotency_key=f"staff-conversation:{conversation_id}:{number}",
            category=NOTIFICATION_CATEGORY,
            now=now,
        )
    except Exception:
        # Give the conversation back to the queue: the answer was not handed to the outbox.
        await StaffConversation.filter(id=conversation_id).update(
            status=ConversationStatus.WAITING,
            answers_sent=conversation.answers_sent,
            answer="",
            answered_at=None,
        )
        raise
    await StaffConversation.filter(id=conversation_id).update(outbox_id=outbox_id)
    refreshed = await StaffConversation.get(id=conversation_id)
    return _row(refreshed) | {"outbox_id": outbox_id}


async def erase_user(openid: str) -> int:
    """Delete every queue entry of this citizen (unsubscribe: the platform requires erasing personal data)."""
    return int(await StaffConversation.filter(openid=openid).delete())
