"""Outbox use cases: enqueue, interactions, claiming due messages, windows, credits, receipts, listing.

Delivery itself (the channel loop) is in ``domain.notifications.delivery``. Every state change that two
dispatchers could race on is one conditional UPDATE, so it is atomic on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from domain import policies
from domain.accounts.rules import mask_openid
from domain.errors import ValidationFailed
from domain.notifications.models import InteractionWindow, OutboxMessage, SubscribeCredit
from domain.notifications.rules import (
    CUSTOM_MAX_PER_INTERACTION,
    CUSTOM_WINDOW,
    OutboxStatus,
    SubscribeApp,
    TemplateContent,
    TemplateSpec,
    WindowState,
    render_values,
)

log = logging.getLogger(__name__)

MAX_KEY_LENGTH = 200
MAX_CATEGORY_LENGTH = 32
MAX_OPENID_LENGTH = 64


def template_catalog() -> Mapping[str, TemplateSpec]:
    """The deployed ``config/wechat_templates.yml``."""
    return policies.current().templates


async def check_template(template: TemplateContent) -> None:
    """An unknown key is the caller's bug: fail where they see it. Values that break the limits are
    only logged here: the text still reaches the user by custom message, and the dispatcher records
    the problem and alerts the admins (a notification problem must not undo the caller's work)."""
    spec = template_catalog().get(template.template_key)
    if spec is None:
        raise ValidationFailed(f"unknown template_key {template.template_key!r}", code="unknown_template")
    try:
        render_values(spec, template.data)
    except ValidationFailed as invalid:
        log.warning("template %s values will not fit: %s", template.template_key, "; ".join(invalid.problems))


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _check_enqueue(*, recipient_openid: str, text: str, idempotency_key: str, category: str) -> None:
    problems: list[str] = []
    if not recipient_openid or len(recipient_openid) > MAX_OPENID_LENGTH:
        problems.append("recipient_openid must be 1-64 characters")
    if not text.strip():
        problems.append("text must not be empty")
    if not idempotency_key or len(idempotency_key) > MAX_KEY_LENGTH:
        problems.append("idempotency_key must be 1-200 characters")
    if not category or len(category) > MAX_CATEGORY_LENGTH:
        problems.append("category must be 1-32 characters")
    if problems:
        raise ValidationFailed("invalid outbox message", code="invalid_outbox_message", problems=problems)


async def enqueue(
    *,
    recipient_openid: str,
    text: str,
    idempotency_key: str,
    category: str,
    template: TemplateContent | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Store a message to send; a repeated ``idempotency_key`` returns the existing id, adding nothing.

    ``text`` is always required: it is what a custom message (and the outbox listing) shows. ``template``
    is the structured form for the template and subscribe channels; an unknown ``template_key`` raises
    ``ValidationFailed`` (see ``check_template``).
    """
    _check_enqueue(
        recipient_openid=recipient_openid, text=text, idempotency_key=idempotency_key, category=category
    )
    if template is not None:
        await check_template(template)
    existing = await OutboxMessage.get_or_none(idempotency_key=idempotency_key)
    if existing is not None:
        return existing.id
    return await _insert(
        recipient_openid=recipient_openid,
        text=text,
        idempotency_key=idempotency_key,
        category=category,
        template=template,
        at=now or _utcnow(),
    )


async def _insert(
    *,
    recipient_openid: str,
    text: str,
    idempotency_key: str,
    category: str,
    template: TemplateContent | None,
    at: dt.datetime,
) -> int:
    """The insert half of ``enqueue``'s race on the unique key: the loser returns the winner's id."""
    try:
        # A savepoint when the caller is inside a transaction, so a lost race does not abort theirs.
        async with in_transaction():
            message = await OutboxMessage.create(
                idempotency_key=idempotency_key,
                recipient_openid=recipient_openid,
                category=category,
                text=text,
                template_key=template.template_key if template else "",
                template_data=dict(template.data) if template else {},
                template_url=template.url if template else "",
                next_attempt_at=at,
                created_at=at,
                updated_at=at,
            )
    except IntegrityError:
        winner = await OutboxMessage.get(idempotency_key=idempotency_key)
        return winner.id
    log.info("outbox %s queued for %s (%s)", message.id, mask_openid(recipient_openid), category)
    return message.id


async def record_interaction(openid: str, *, now: dt.datetime) -> None:
    """The user wrote to us: a fresh 48 h / 5-message window, and their waiting messages go out again."""
    updated = await InteractionWindow.filter(openid=openid).update(last_interaction_at=now, custom_used=0)
    if not updated:
        try:
            async with in_transaction():
                await InteractionWindow.create(openid=openid, last_interaction_at=now, custom_used=0)
        except IntegrityError:
            await InteractionWindow.filter(openid=openid).update(last_interaction_at=now, custom_used=0)
    released = await OutboxMessage.filter(
        recipient_openid=openid, status=OutboxStatus.WAITING_FOR_INTERACTION
    ).update(status=OutboxStatus.PENDING, next_attempt_at=now, excluded_channels=[], updated_at=now)
    if released:
        log.info("released %s waiting message(s) for %s", released, mask_openid(openid))


async def forget_user(openid: str) -> int:
    """Unsubscribe: erase the user's window, credits and undelivered messages (sent ones keep no text)."""
    await InteractionWindow.filter(openid=openid).delete()
    await SubscribeCredit.filter(openid=openid).delete()
    return await OutboxMessage.filter(recipient_openid=openid).delete()


# --- claiming -------------------------------------------------------------------------------------


async def claim_due(
    *, now: dt.datetime, limit: int, lease_s: float, owner: str = "dispatcher"
) -> list[OutboxMessage]:
    """Messages due now, each claimed (PENDING -> SENDING) by exactly one caller, ``owner``.

    A SENDING message whose lease ran out (its dispatcher died) is claimed again.
    """
    candidates = (
        await OutboxMessage.filter(
            Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=OutboxStatus.SENDING, claimed_until__lt=now)
        )
        .order_by("next_attempt_at", "id")
        .limit(limit)
        .values_list("id", "status", "claimed_until")
    )
    lease_until = now + dt.timedelta(seconds=lease_s)
    claimed_ids: list[int] = []
    for message_id, status, claimed_until in candidates:
        query = OutboxMessage.filter(id=message_id, status=status)
        if status == OutboxStatus.SENDING:
            query = query.filter(claimed_until=claimed_until)
            log.warning("outbox %s: lease of a dead dispatcher ran out, claiming it again", message_id)
        values = {"claimed_until": lease_until, "claim_owner": owner[:64], "updated_at": now}
        if await query.update(status=OutboxStatus.SENDING, **values):
            claimed_ids.append(message_id)
    if not claimed_ids:
        return []
    return await OutboxMessage.filter(id__in=claimed_ids).order_by("next_attempt_at", "id")


async def renew_claims(message_ids: list[int], *, owner: str, until: dt.datetime) -> int:
    """Extend this owner's leases while it is still delivering, so a short lease never expires under a
    live dispatcher (and only a dead one's messages are claimed again)."""
    if not message_ids:
        return 0
    return await OutboxMessage.filter(
        id__in=message_ids, status=OutboxStatus.SENDING, claim_owner=owner[:64]
    ).update(claimed_until=until)


async def finish(
    message: OutboxMessage, status: OutboxStatus, *, now: dt.datetime, **changes: object
) -> bool:
    """Record the outcome of one claimed message, only while it is still ours (SENDING, our lease).

    False means another dispatcher took it over after our lease ran out: its outcome wins.
    """
    values: dict[str, object] = {"status": status, "claimed_until": None, "updated_at": now, **changes}
    if status in (OutboxStatus.SENT, OutboxStatus.RECORDED):
        values["sent_at"] = now
    updated = await OutboxMessage.filter(
        id=message.id, status=OutboxStatus.SENDING, claim_owner=message.claim_owner
    ).update(**values)
    for name, value in values.items():
        setattr(message, name, value)
    if not updated:
        log.warning("outbox %s: taken over by another dispatcher, outcome %s dropped", message.id, status)
    return bool(updated)


async def mark_parts(message: OutboxMessage, *, attempted: int, sent: int, unconfirmed: bool) -> None:
    """Where a custom message stands: chunks handed to the platform, confirmed, and any of unknown fate."""
    message.parts_attempted, message.parts_sent = attempted, sent
    message.unconfirmed = message.unconfirmed or unconfirmed
    await OutboxMessage.filter(id=message.id).update(
        parts_attempted=attempted, parts_sent=sent, unconfirmed=message.unconfirmed
    )


# --- windows and credits -----------------------------------------------------------------------


async def window_of(openid: str) -> WindowState:
    row = await InteractionWindow.get_or_none(openid=openid)
    if row is None:
        return WindowState()
    return WindowState(last_interaction_at=row.last_interaction_at, custom_used=row.custom_used)


async def use_custom_slots(openid: str, count: int, *, now: dt.datetime) -> bool:
    """Take ``count`` custom messages from the user's window, atomically; False when it cannot hold them."""
    taken = await InteractionWindow.filter(
        openid=openid,
        last_interaction_at__gt=now - CUSTOM_WINDOW,
        custom_used__lte=CUSTOM_MAX_PER_INTERACTION - count,
    ).update(custom_used=F("custom_used") + count)
    return bool(taken)


async def return_custom_slots(openid: str, count: int) -> None:
    """A transient failure: the platform did not count the message, so neither do we."""
    await InteractionWindow.filter(openid=openid, custom_used__gte=count).update(
        custom_used=F("custom_used") - count
    )


async def close_custom_window(openid: str) -> None:
    """The platform said 45015/45047: believe it over our own count until the user writes again."""
    await InteractionWindow.filter(openid=openid).update(custom_used=CUSTOM_MAX_PER_INTERACTION)


async def grant_subscribe_credit(
    openid: str, template_key: str, *, app: SubscribeApp, now: dt.datetime, count: int = 1
) -> None:
    """The user accepted a subscribe authorisation (``wx.requestSubscribeMessage``): one more message."""
    updated = await SubscribeCredit.filter(openid=openid, template_key=template_key, app=app.value).update(
        remaining=F("remaining") + count, updated_at=now
    )
    if not updated:
        try:
            async with in_transaction():
                await SubscribeCredit.create(
                    openid=openid, template_key=template_key, app=app.value, remaining=count, updated_at=now
                )
        except IntegrityError:
            await SubscribeCredit.filter(openid=openid, template_key=template_key, app=app.value).update(
                remaining=F("remaining") + count, updated_at=now
            )
    # Messages that were waiting for a channel can now use this one.
    await OutboxMessage.filter(
        recipient_openid=openid, template_key=template_key, status=OutboxStatus.WAITING_FOR_INTERACTION
    ).update(status=OutboxStatus.PENDING, next_attempt_at=now, excluded_channels=[], updated_at=now)


async def credit_app(openid: str, template_key: str) -> SubscribeApp | None:
    """Which app holds a credit for this user and template (the mini-program first), if any."""
    rows = await SubscribeCredit.filter(openid=openid, template_key=template_key, remaining__gt=0)
    apps = {row.app for row in rows}
    for app in (SubscribeApp.WXA, SubscribeApp.MP):
        if app.value in apps:
            return app
    return None


async def take_subscribe_credit(openid: str, template_key: str, app: SubscribeApp) -> bool:
    taken = await SubscribeCredit.filter(
        openid=openid, template_key=template_key, app=app.value, remaining__gt=0
    ).update(remaining=F("remaining") - 1)
    return bool(taken)


async def return_subscribe_credit(openid: str, template_key: str, app: SubscribeApp) -> None:
    await SubscribeCredit.filter(openid=openid, template_key=template_key, app=app.value).update(
        remaining=F("remaining") + 1
    )


async def drop_subscribe_credit(openid: str, template_key: str, app: SubscribeApp) -> None:
    """43101: the user no longer accepts this template; whatever we counted is void."""
    await SubscribeCredit.filter(openid=openid, template_key=template_key, app=app.value).update(remaining=0)


# --- receipts and listing ------------------------------------------------------------------------


async def record_template_receipt(msgid: str, status: str, *, now: dt.datetime) -> bool:
    """TEMPLATESENDJOBFINISH: store the delivery status (``success``, ``failed:user block``, ...) by msgid.

    Idempotent: a repeated event writes the same values. False when no message has that msgid.
    """
    if not msgid:
        return False
    updated = await OutboxMessage.filter(msgid=msgid).update(
        receipt_status=status[:64], receipt_at=now, updated_at=now
    )
    return bool(updated)


@dataclass(frozen=True, slots=True)
class OutboxPage:
    total: int
    items: list[dict[str, object]]


def _view(message: OutboxMessage) -> dict[str, object]:
    return {
        "id": message.id,
        "idempotency_key": message.idempotency_key,
        "recipient": mask_openid(message.recipient_openid),
        "category": message.category,
        "status": message.status.value,
        "channel": message.channel,
        "text": message.text,
        "template_key": message.template_key,
        "template_data": message.template_data,
        "attempts": message.attempts,
        "next_attempt_at": message.next_attempt_at.isoformat(),
        "last_errcode": message.last_errcode,
        "last_errmsg": message.last_errmsg,
        "msgid": message.msgid,
        "receipt_status": message.receipt_status,
        "created_at": message.created_at.isoformat(),
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
        "unconfirmed": message.unconfirmed,
        "alerted_at": message.alerted_at.isoformat() if message.alerted_at else None,
    }


async def list_outbox(
    *, status: OutboxStatus | None = None, category: str = "", page: int = 1, page_size: int = 20
) -> OutboxPage:
    query = OutboxMessage.all()
    if status is not None:
        query = query.filter(status=status)
    if category:
        query = query.filter(category=category)
    total = await query.count()
    rows = await query.order_by("-id").offset((page - 1) * page_size).limit(page_size)
    return OutboxPage(total=total, items=[_view(row) for row in rows])


async def outbox_counters() -> dict[str, int]:
    """Durable counters for the admin listing: what failed for good, what the admins were alerted
    about, and custom messages of unknown fate (a timeout after sending; never resent)."""
    return {
        "failed": await OutboxMessage.filter(status=OutboxStatus.FAILED).count(),
        "failed_alerted": await OutboxMessage.filter(alerted_at__isnull=False).count(),
        "unconfirmed": await OutboxMessage.filter(unconfirmed=True).count(),
        "waiting_for_interaction": await OutboxMessage.filter(
            status=OutboxStatus.WAITING_FOR_INTERACTION
        ).count(),
    }
