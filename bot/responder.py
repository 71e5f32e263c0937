"""Idempotency and the reply deadline around the message handler.

- The first delivery of a message (dedup key: MsgId, or FromUserName+CreateTime+Event for events)
  claims it in the dedup port; only that delivery runs the handler, so no retry repeats a side effect,
  even across processes (Redis).
- A retry gets the stored reply when the answer is ready, and ``success`` while it is still in progress.
- If the answer is not ready within ``settings.wechat_reply_budget_s`` the webhook answers ``success``
  and the answer is pushed through the outbox later, with an idempotency key derived from the message.
- An answer longer than one passive reply (2048 bytes) is sent as several pushed messages.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time

from bot import messages
from bot.handling import MessageHandler, opens_window
from bot.inbound import InboundMessage
from bot.replies import split_reply
from domain.accounts.rules import mask_openid
from domain.notifications.services import enqueue, record_interaction

log = logging.getLogger(__name__)

SEEN_TTL_S = 15 * 60  # WeChat retries within ~15 s; keep the claim well past that
REPLY_TTL_S = 15 * 60
PUSH_CATEGORY = "bot_reply"
INTERACTION_REFRESH_S = 30.0
_PUSHED = json.dumps({"pushed": True})


def _reply_key(dedup_key: str) -> str:
    return f"wx:reply:{dedup_key}"


class Responder:
    def __init__(self, handler: MessageHandler, *, budget_s: float) -> None:
        self.handler = handler
        self.budget_s = budget_s
        self._cache = handler.deps.infra.cache
        self._dedup = handler.deps.infra.dedup
        self._tasks: set[asyncio.Task[None]] = set()

    async def respond(self, message: InboundMessage, *, started: float) -> str:
        """The passive reply text ("" means answer ``success``). ``started`` is ``time.monotonic()``
        when the request arrived: the budget counts from there."""
        key = message.dedup_key
        if not await self._dedup.first_seen(f"wx:seen:{key}", SEEN_TTL_S):
            stored = await self._cache.get(_reply_key(key))
            log.info(
                "retry of %s from %s: %s",
                key[:40],
                mask_openid(message.from_user),
                "answered again" if stored else "still in progress",
            )
            return str(json.loads(stored).get("text", "")) if stored else ""
        now = dt.datetime.now(dt.UTC)
        work = asyncio.create_task(self._answer(message, now=now))
        remaining = self.budget_s - (time.monotonic() - started)
        done, _ = await asyncio.wait({work}, timeout=max(0.0, remaining))
        if work in done:
            pieces = split_reply(work.result())
            await self._cache.set(
                _reply_key(key), json.dumps({"text": pieces[0]}, ensure_ascii=False), REPLY_TTL_S
            )
            if len(pieces) > 1:
                await self._push(message, pieces, first=1, now=now)
            return pieces[0]
        # Too slow for a passive reply: retries now get "success", and the answer is pushed when ready.
        await self._cache.set(_reply_key(key), _PUSHED, REPLY_TTL_S)
        self._keep(asyncio.create_task(self._push_when_ready(message, work, now=now)))
        return ""

    async def _answer(self, message: InboundMessage, *, now: dt.datetime) -> str:
        try:
            # The outbox needs to know the user wrote (the 48 h custom-message window). Recording it
            # is two database writes, so a user writing several messages a minute is recorded once per
            # INTERACTION_REFRESH_S: the window still opens at once, only its 5-message count is reset
            # less often (conservative: fewer custom messages, never more than WeChat allows).
            if opens_window(message) and await self._dedup.first_seen(
                f"wx:interaction:{message.from_user}", INTERACTION_REFRESH_S
            ):
                await record_interaction(message.from_user, now=now)
            return await self.handler.handle(message, now=now)
        except Exception:
            log.exception(
                "handling %s from %s failed", message.dedup_key[:40], mask_openid(message.from_user)
            )
            return messages.INTERNAL_ERROR

    async def _push_when_ready(
        self, message: InboundMessage, work: asyncio.Task[str], *, now: dt.datetime
    ) -> None:
        text = await work
        if text:
            await self._push(message, split_reply(text), first=0, now=now)

    async def _push(
        self, message: InboundMessage, pieces: list[str], *, first: int, now: dt.datetime
    ) -> None:
        for index in range(first, len(pieces)):
            await enqueue(
                recipient_openid=message.from_user,
                text=pieces[index],
                idempotency_key=f"wx-reply:{message.dedup_key}:{index}",
                category=PUSH_CATEGORY,
                now=now,
            )

    def _keep(self, task: asyncio.Task[None]) -> None:
        # Keep a reference until done: an unreferenced task may be garbage-collected mid-flight.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Let answers still being pushed finish (server shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_s)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("pushing a late answer failed", exc_info=task.exception())
