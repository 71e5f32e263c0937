"""The outbox dispatcher: claims due messages and delivers them through WeChat (or records them).

With Redis, only the process holding the leader lease dispatches (the Lock port); each claim is also
a conditional UPDATE, so even two leaders by accident cannot send one message twice. Without WeChat
credentials (embedded mode) messages are marked ``recorded``: the admin outbox listing shows what
would have been sent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Callable
from typing import Protocol

from adapters.infrastructure import Infrastructure
from adapters.sms.factory import sms_from_settings
from adapters.wechat.client import WeChatClient
from config.settings import Settings
from domain.alerts.messages import ALARM_TYPE_LABELS
from domain.notifications import services
from domain.notifications.delivery import DeliveryContext, deliver
from domain.notifications.escalation import Fallback, settle_due
from domain.notifications.models import OutboxMessage
from domain.notifications.policy import flush_digests
from domain.notifications.rules import RetryPolicy

log = logging.getLogger(__name__)

LEADER_LOCK = "outbox:dispatcher"
# A dead leader is replaced within LEADER_TTL_S, and its claimed messages are claimed again within
# CLAIM_LEASE_S: both well inside a minute. The lease stays short because a live dispatcher renews it
# (and its leadership) every RENEW_EVERY_S while a batch is in flight.
LEADER_TTL_S = 10.0
CLAIM_LEASE_S = 20.0
RENEW_EVERY_S = 5.0
BATCH_SIZE = 50
CONCURRENCY = 8
DRAIN_TIMEOUT_S = 30.0


class DispatcherRuntime(Protocol):
    """What the dispatcher needs from ``config.container.Runtime`` (adapters sit below config)."""

    settings: Settings
    infra: Infrastructure

    @property
    def wechat(self) -> WeChatClient: ...


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Dispatcher:
    def __init__(
        self,
        *,
        infra: Infrastructure,
        context: DeliveryContext,
        poll_interval_s: float,
        owner: str | None = None,
        clock: Callable[[], dt.datetime] = _utcnow,
        escalation_fallback: Fallback | None = None,
    ) -> None:
        self._infra = infra
        self._fallback = escalation_fallback
        self._context = context
        self._poll_s = poll_interval_s
        self.owner = owner or f"dispatcher-{uuid.uuid4().hex[:12]}"
        self._clock = clock
        self._leading = False

    @property
    def recording_only(self) -> bool:
        return self._context.sender is None

    async def _hold_leadership(self) -> bool:
        """Only one dispatcher sends when processes share Redis; in-process there is only one."""
        if not self._infra.redis_backed:
            return True
        lock = self._infra.lock
        if self._leading and await lock.refresh(LEADER_LOCK, self.owner, LEADER_TTL_S):
            return True
        self._leading = await lock.acquire(LEADER_LOCK, self.owner, LEADER_TTL_S)
        if self._leading:
            log.info("%s is now the outbox leader", self.owner)
        return self._leading

    async def run_once(self) -> int:
        """Claim and deliver one batch; returns how many messages were handled."""
        if not await self._hold_leadership():
            return 0
        await self._housekeeping()
        messages = await services.claim_due(
            now=self._clock(), limit=BATCH_SIZE, lease_s=CLAIM_LEASE_S, owner=self.owner
        )
        if not messages:
            return 0
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(message: OutboxMessage) -> None:
            async with limit:
                try:
                    await deliver(message, self._context, now=self._clock())
                except Exception:
                    # A broken message must not stop the others. It stays SENDING; its lease runs
                    # out and it is claimed again.
                    log.exception("outbox %s: delivery crashed", message.id)

        renewer = asyncio.create_task(self._renew([message.id for message in messages]))
        try:
            async with asyncio.TaskGroup() as group:
                for message in messages:
                    group.create_task(one(message))
        finally:
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)
        return len(messages)

    async def _housekeeping(self) -> None:
        """Escalation deadlines and notice digests; a fault here must never stop delivery."""
        if self._fallback is None:
            return
        try:
            await settle_due(self._fallback, now=self._clock())
            await flush_digests(now=self._clock(), labels=ALARM_TYPE_LABELS)
        except Exception:
            log.exception("escalation or digest housekeeping failed; retried next poll")

    async def _renew(self, message_ids: list[int]) -> None:
        """Keep this batch's leases (and the leadership) alive while it is being delivered."""
        while True:
            await asyncio.sleep(RENEW_EVERY_S)
            until = self._clock() + dt.timedelta(seconds=CLAIM_LEASE_S)
            await services.renew_claims(message_ids, owner=self.owner, until=until)
            await self._hold_leadership()

    async def run(self) -> None:
        """Poll until cancelled; busy batches are followed at once, idle ones after the poll interval."""
        try:
            while True:
                batch = asyncio.ensure_future(self.run_once())
                try:
                    handled = await asyncio.shield(batch)
                except asyncio.CancelledError:
                    # Let the batch in flight record its outcomes (each call is bounded by the HTTP
                    # timeout) instead of leaving messages SENDING until their lease runs out.
                    await asyncio.wait({batch}, timeout=DRAIN_TIMEOUT_S)
                    raise
                if handled < BATCH_SIZE:
                    await asyncio.sleep(self._poll_s)
        finally:
            if self._leading and self._infra.redis_backed:
                await asyncio.shield(self._infra.lock.release(LEADER_LOCK, self.owner))


async def build_dispatcher(runtime: DispatcherRuntime, *, owner: str | None = None) -> Dispatcher:
    settings = runtime.settings
    catalog = services.template_catalog()
    sender = runtime.wechat if settings.wechat_configured else None
    if sender is None:
        log.warning("WeChat credentials not configured: the outbox records messages instead of sending them")
    context = DeliveryContext(
        sender=sender,
        catalog=catalog,
        admin_openids=tuple(settings.admin_alert_openids),
        retry=RetryPolicy(
            horizon=dt.timedelta(seconds=settings.outbox_retry_horizon_s),
            backoff_cap_s=settings.outbox_backoff_cap_s,
        ),
    )
    fallback = Fallback(
        sms=sms_from_settings(settings),
        sms_template_code=settings.sms_escalation_template_code,
        admin_openids=tuple(settings.admin_alert_openids),
        deadline=dt.timedelta(seconds=settings.escalation_delivery_deadline_s),
    )
    return Dispatcher(
        infra=runtime.infra,
        context=context,
        poll_interval_s=settings.outbox_poll_interval_s,
        owner=owner,
        escalation_fallback=fallback,
    )


async def run_dispatcher(runtime: DispatcherRuntime) -> None:
    """The embedded worker (``config.workers``) and the production process entry."""
    dispatcher = await build_dispatcher(runtime)
    await dispatcher.run()


async def handle_template_send_job_finish(msgid: str, status: str, *, now: dt.datetime) -> bool:
    """The TEMPLATESENDJOBFINISH event (called by the webhook): store the delivery receipt by msgid."""
    recorded = await services.record_template_receipt(msgid, status, now=now)
    if not recorded:
        log.info("TEMPLATESENDJOBFINISH for unknown msgid %s", msgid)
    return recorded
