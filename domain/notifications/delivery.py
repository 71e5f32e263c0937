"""Delivering one claimed outbox message: the channel loop and what each platform answer means.

The loop tries the channels in policy order (``rules.choose_channel``); a channel that refuses the
message for this user (45015/45047, 43101) is excluded and the next one tried in the same pass, so a
fallback never waits for a retry. Transient failures go back to PENDING with backoff; 47003/45009 fail
the message and queue an alert to the admins as a separate outbox message (never a recursive send).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from domain.accounts.rules import mask_openid
from domain.errors import ValidationFailed
from domain.notifications import services
from domain.notifications.models import OutboxMessage
from domain.notifications.ports import DeliveryRejected, DeliveryTransient, DeliveryUnconfirmed, Sender
from domain.notifications.rules import (
    CHANNEL_ORDER,
    TOKEN_ERRCODES,
    Channel,
    ChannelOptions,
    ErrorAction,
    OutboxStatus,
    RetryPolicy,
    SubscribeApp,
    TemplateContent,
    TemplateSpec,
    choose_channel,
    classify_error,
    next_retry_at,
    render_values,
    split_text,
)

log = logging.getLogger(__name__)

ADMIN_ALERT_CATEGORY = "admin_alert"
ADMIN_ALERT_TEMPLATE = "admin_alert"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class DeliveryContext:
    """What delivery needs besides the message. ``sender`` None means record instead of sending."""

    sender: Sender | None
    catalog: Mapping[str, TemplateSpec]
    admin_openids: Sequence[str] = ()
    jitter: Callable[[], float] = field(default=random.random)
    retry: RetryPolicy = field(default_factory=RetryPolicy)


class _Refused(Exception):
    """This channel cannot take the message for this user: try the next one."""


def _content(message: OutboxMessage) -> TemplateContent | None:
    if not message.template_key:
        return None
    return TemplateContent(message.template_key, dict(message.template_data), message.template_url)


async def _options(
    message: OutboxMessage, spec: TemplateSpec | None, excluded: set[Channel]
) -> tuple[ChannelOptions, SubscribeApp | None]:
    app = None
    if spec is not None and spec.subscribe_template_id:
        app = await services.credit_app(message.recipient_openid, spec.key)
    options = ChannelOptions(
        window=await services.window_of(message.recipient_openid),
        has_template=spec is not None,
        template_id_configured=bool(spec and spec.template_id),
        subscribe_id_configured=bool(spec and spec.subscribe_template_id),
        subscribe_credit=app is not None,
        excluded=frozenset(excluded),
    )
    return options, app


async def deliver(message: OutboxMessage, ctx: DeliveryContext, *, now: dt.datetime) -> OutboxStatus:
    """Send (or record) one message claimed by this dispatcher; returns its new status."""
    content = _content(message)
    spec = ctx.catalog.get(content.template_key) if content else None
    if content is not None and spec is None:
        return await _fail(message, ctx, now=now, errcode=None, errmsg="unknown template_key", alert=False)
    values: dict[str, str] = {}
    if content is not None and spec is not None:
        try:
            values = render_values(spec, content.data)
        except ValidationFailed as invalid:
            await _template_unusable(message, ctx, "; ".join(invalid.problems), now=now)
            spec = None  # the text can still go as a custom message
    excluded = {Channel(name) for name in message.excluded_channels}
    for _ in CHANNEL_ORDER:
        options, app = await _options(message, spec, excluded)
        channel = choose_channel(options, now=now)
        if ctx.sender is None:
            return await _record(message, channel, now=now)
        if channel is None:
            break
        outcome = await _attempt(message, ctx, channel, values=values, spec=spec, app=app, now=now)
        if outcome is not None:
            return outcome
        excluded.add(channel)
    await services.finish(
        message,
        OutboxStatus.WAITING_FOR_INTERACTION,
        now=now,
        excluded_channels=sorted(channel.value for channel in excluded),
    )
    return OutboxStatus.WAITING_FOR_INTERACTION


async def _template_unusable(
    message: OutboxMessage, ctx: DeliveryContext, problem: str, *, now: dt.datetime
) -> None:
    """Values that break the platform limits (47003 if sent): never send them, tell the admins."""
    log.error("outbox %s: template %s unusable: %s", message.id, message.template_key, problem[:200])
    await OutboxMessage.filter(id=message.id).update(last_errcode=47003, last_errmsg=problem[:300])
    message.last_errcode, message.last_errmsg = 47003, problem[:300]
    if message.category != ADMIN_ALERT_CATEGORY:
        await alert_admins(ctx.admin_openids, failed=message, errcode=47003, now=now)


async def _record(message: OutboxMessage, channel: Channel | None, *, now: dt.datetime) -> OutboxStatus:
    """No credentials: keep what would have been sent, and on which channel, for the admin listing."""
    await services.finish(message, OutboxStatus.RECORDED, now=now, channel=channel.value if channel else "")
    log.info("outbox %s recorded for %s (no credentials)", message.id, mask_openid(message.recipient_openid))
    return OutboxStatus.RECORDED


async def _attempt(
    message: OutboxMessage,
    ctx: DeliveryContext,
    channel: Channel,
    *,
    values: dict[str, str],
    spec: TemplateSpec | None,
    app: SubscribeApp | None,
    now: dt.datetime,
) -> OutboxStatus | None:
    """One send on one channel; None means the channel refused it and the next one should be tried."""
    assert ctx.sender is not None
    try:
        msgid = await _send(message, ctx.sender, channel, values=values, spec=spec, app=app, now=now)
    except _Refused:
        return None
    except DeliveryTransient as error:
        return await _retry_later(message, ctx, now=now, errcode=None, errmsg=str(error), channel=channel)
    except DeliveryRejected as error:
        return await _on_rejected(message, ctx, error, channel=channel, app=app, now=now)
    await services.finish(message, OutboxStatus.SENT, now=now, channel=channel.value, msgid=msgid)
    return OutboxStatus.SENT


async def _send(
    message: OutboxMessage,
    sender: Sender,
    channel: Channel,
    *,
    values: dict[str, str],
    spec: TemplateSpec | None,
    app: SubscribeApp | None,
    now: dt.datetime,
) -> str:
    if channel is Channel.CUSTOM:
        await _send_custom(message, sender, now=now)
        return ""
    assert spec is not None  # choose_channel offers these only with a usable template
    if channel is Channel.TEMPLATE:
        # client_msg_id = the outbox id: a retry after a timeout cannot deliver twice (10 min dedup).
        return await sender.send_template(
            message.recipient_openid,
            template_id=spec.template_id,
            data=values,
            url=message.template_url,
            client_msg_id=str(message.id),
        )
    assert app is not None
    await _send_subscribe(message, sender, values=values, spec=spec, app=app)
    return ""


async def _send_custom(message: OutboxMessage, sender: Sender, *, now: dt.datetime) -> None:
    """The parts not yet sent, each counted against the user's window as it goes out.

    custom/send has no deduplication key, so a part whose fate is unknown (our answer timed out, or a
    dispatcher died after handing it over) is never sent again: at most once, flagged ``unconfirmed``.
    """
    openid = message.recipient_openid
    if message.parts_attempted > message.parts_sent:  # a dead dispatcher's part in flight
        log.warning("outbox %s: part %s of unknown fate, not resent", message.id, message.parts_attempted)
        await services.mark_parts(
            message, attempted=message.parts_attempted, sent=message.parts_attempted, unconfirmed=True
        )
    parts = split_text(message.text)[message.parts_sent :]
    if not parts:
        return
    if not await services.use_custom_slots(openid, len(parts), now=now):
        raise _Refused
    for index, part in enumerate(parts):
        sent = message.parts_sent
        await services.mark_parts(message, attempted=sent + 1, sent=sent, unconfirmed=False)
        try:
            await sender.send_custom_text(openid, part)
        except DeliveryUnconfirmed:
            log.warning("outbox %s: custom part %s unanswered, counted as sent", message.id, sent + 1)
            await services.mark_parts(message, attempted=sent + 1, sent=sent + 1, unconfirmed=True)
            continue
        except (DeliveryTransient, DeliveryRejected):
            # Not taken by the platform (an errcode or a refused connection): the window slots of this
            # part and the ones after it are given back, and the part is not in flight any more.
            await services.return_custom_slots(openid, len(parts) - index)
            await services.mark_parts(message, attempted=sent, sent=sent, unconfirmed=False)
            raise
        await services.mark_parts(message, attempted=sent + 1, sent=sent + 1, unconfirmed=False)


async def _send_subscribe(
    message: OutboxMessage,
    sender: Sender,
    *,
    values: dict[str, str],
    spec: TemplateSpec,
    app: SubscribeApp,
) -> None:
    """Spends one subscribe credit, given back when the platform never counted the send."""
    openid = message.recipient_openid
    if not await services.take_subscribe_credit(openid, spec.key, app):
        raise _Refused
    try:
        await sender.send_subscribe(
            openid,
            app=app,
            template_id=spec.subscribe_template_id,
            data=values,
            page=message.template_url or spec.page,
        )
    except DeliveryTransient:
        await services.return_subscribe_credit(openid, spec.key, app)
        raise


async def _on_rejected(
    message: OutboxMessage,
    ctx: DeliveryContext,
    error: DeliveryRejected,
    *,
    channel: Channel,
    app: SubscribeApp | None,
    now: dt.datetime,
) -> OutboxStatus | None:
    """The outcome for a platform errcode; None means fall back to the next channel."""
    # A token still refused after the client's one refresh is an infrastructure fault: back off.
    action = ErrorAction.RETRY if error.errcode in TOKEN_ERRCODES else classify_error(error.errcode)
    log.warning("outbox %s: %s refused with %s (%s)", message.id, channel.value, error.errcode, action.value)
    if action is ErrorAction.RETRY:
        return await _retry_later(
            message, ctx, now=now, errcode=error.errcode, errmsg=error.errmsg, channel=channel
        )
    if action is ErrorAction.FALLBACK:
        if channel is Channel.CUSTOM:
            await services.close_custom_window(message.recipient_openid)
        return None
    if action is ErrorAction.DROP_CREDIT_AND_FALLBACK:
        if app is not None:
            await services.drop_subscribe_credit(message.recipient_openid, message.template_key, app)
        return None
    alert = action is ErrorAction.FAIL_AND_ALERT
    return await _fail(message, ctx, now=now, errcode=error.errcode, errmsg=error.errmsg, alert=alert)


async def _retry_later(
    message: OutboxMessage,
    ctx: DeliveryContext,
    *,
    now: dt.datetime,
    errcode: int | None,
    errmsg: str,
    channel: Channel,
) -> OutboxStatus:
    attempts = message.attempts + 1
    first_failure_at = message.first_failure_at or now
    retry_at = next_retry_at(
        ctx.retry, attempt=attempts, first_failure_at=first_failure_at, now=now, jitter=ctx.jitter()
    )
    if retry_at is None:
        # The whole horizon went by without one success: somebody has to know.
        return await _fail(
            message, ctx, now=now, errcode=errcode, errmsg=errmsg, alert=True, attempts=attempts
        )
    await services.finish(
        message,
        OutboxStatus.PENDING,
        now=now,
        attempts=attempts,
        first_failure_at=first_failure_at,
        next_attempt_at=retry_at,
        last_errcode=errcode,
        last_errmsg=errmsg[:300],
        channel=channel.value,
    )
    return OutboxStatus.PENDING


async def _fail(
    message: OutboxMessage,
    ctx: DeliveryContext,
    *,
    now: dt.datetime,
    errcode: int | None,
    errmsg: str,
    alert: bool,
    attempts: int | None = None,
) -> OutboxStatus:
    changes: dict[str, object] = {"last_errcode": errcode, "last_errmsg": errmsg[:300]}
    if attempts is not None:
        changes["attempts"] = attempts
    alert = alert and message.category != ADMIN_ALERT_CATEGORY
    if alert:
        changes["alerted_at"] = now
    if not await services.finish(message, OutboxStatus.FAILED, now=now, **changes):
        return OutboxStatus.FAILED
    log.error(
        "outbox %s failed for good after %s attempt(s): %s %s",
        message.id,
        message.attempts,
        errcode,
        errmsg[:120],
    )
    if alert:
        await alert_admins(ctx.admin_openids, failed=message, errcode=errcode, now=now)
    return OutboxStatus.FAILED


async def alert_admins(
    admin_openids: Sequence[str], *, failed: OutboxMessage, errcode: int | None, now: dt.datetime
) -> list[int]:
    """One alert per admin, per errcode, per hour: a quota outage must not flood the admins too."""
    hour = now.strftime("%Y%m%d%H")
    reason = f"错误码 {errcode}" if errcode is not None else "微信接口超时或不可用"
    text = f"消息发送失败（{reason}），消息编号 {failed.id}，类别 {failed.category}。请检查公众号配置或配额。"
    template = TemplateContent(
        ADMIN_ALERT_TEMPLATE,
        {
            "thing1": f"消息发送失败 {errcode if errcode is not None else '超时'}",
            "character_string2": str(failed.id),
            "time3": now.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
        },
    )
    ids = []
    for openid in admin_openids:
        ids.append(
            await services.enqueue(
                recipient_openid=openid,
                text=text,
                idempotency_key=f"admin-alert:{errcode}:{hour}:{openid}",
                category=ADMIN_ALERT_CATEGORY,
                template=template,
                now=now,
            )
        )
    return ids
