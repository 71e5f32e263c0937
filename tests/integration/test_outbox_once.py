"""Issue 14, fault 6: retries give the customer-service window back, a timed-out custom message is
not sent twice, and a dead dispatcher's messages go out within a minute, once."""

from __future__ import annotations

import asyncio
from collections import Counter

from adapters.wechat.dispatcher import CLAIM_LEASE_S, LEADER_TTL_S
from domain.notifications import services
from domain.notifications.models import InteractionWindow, OutboxMessage
from domain.notifications.rules import OutboxStatus
from tests.integration.test_outbox_dispatch import USER, Env, build_env
from tests.wechat_stub.server import WeChatStub


async def _ride(env: Env, message_id: int) -> None:
    for _ in range(50):
        await env.dispatcher.run_once()
        message = await env.message(message_id)
        if message.status is not OutboxStatus.PENDING:
            return
        env.clock.now = max(message.next_attempt_at, env.clock.now)


async def test_errcode_retries_give_their_window_slot_back(database: str, wechat_stub: WeChatStub) -> None:
    env = build_env(wechat_stub, catalog=dict(services.template_catalog()))
    await env.interact()
    wechat_stub.inject("custom", -1, times=5)  # five busy answers: as many as the window holds
    message_id = await env.enqueue("k1", template=False)
    await _ride(env, message_id)
    message = await env.message(message_id)
    assert message.status is OutboxStatus.SENT and message.channel == "custom"
    assert (await InteractionWindow.get(openid=USER)).custom_used == 1, "only the delivered one counts"
    assert [m["api"] for m in wechat_stub.sent] == ["custom"]


async def test_a_custom_message_that_timed_out_after_delivery_is_not_sent_again(
    database: str, wechat_stub: WeChatStub
) -> None:
    env = build_env(wechat_stub, catalog=dict(services.template_catalog()), timeout_s=0.5)
    await env.interact()
    wechat_stub.slow("custom", 1.0)  # WeChat delivers, but answers after our timeout
    message_id = await env.enqueue("k1", template=False)
    await env.dispatcher.run_once()
    await asyncio.sleep(0.7)
    env.clock.advance(60)
    await env.dispatcher.run_once()
    message = await env.message(message_id)
    assert len(wechat_stub.sent) == 1, "the user got it once"
    assert message.status is OutboxStatus.SENT and message.unconfirmed
    assert (await services.outbox_counters())["unconfirmed"] == 1


async def test_a_dead_dispatchers_messages_go_out_within_a_minute_once(
    database: str, wechat_stub: WeChatStub
) -> None:
    assert LEADER_TTL_S + CLAIM_LEASE_S < 60, "a new leader takes over and re-claims inside a minute"
    catalog = dict(services.template_catalog())
    dead, heir = build_env(wechat_stub, catalog=catalog), build_env(wechat_stub, catalog=catalog)
    heir.clock.now = dead.clock.now
    users = [f"oUSER{n:021d}" for n in range(6)]
    for n, openid in enumerate(users):
        if n % 2 == 0:
            await dead.interact(openid)  # custom for even users, template for odd ones
        await dead.enqueue(f"k{n}", openid=openid, template=n % 2 == 1)
    wechat_stub.slow("custom", 1.5, times=3)
    wechat_stub.slow("template", 1.5, times=3)
    killed = asyncio.create_task(dead.dispatcher.run_once())
    await asyncio.sleep(0.5)  # every send is on the wire
    killed.cancel()  # the process dies: no outcome is written, the claims are left behind
    await asyncio.gather(killed, return_exceptions=True)
    await asyncio.sleep(1.5)  # WeChat finishes delivering what it was handed
    heir.clock.advance(CLAIM_LEASE_S / 2)
    assert await heir.dispatcher.run_once() == 0, "a live lease is respected"
    heir.clock.advance(CLAIM_LEASE_S / 2 + 1)
    assert await heir.dispatcher.run_once() == len(users)
    assert Counter(m["openid"] for m in wechat_stub.sent) == Counter(users), "each user got it once"
    assert {message.status for message in await OutboxMessage.all()} == {OutboxStatus.SENT}


async def test_a_zombie_dispatcher_cannot_overwrite_the_heirs_outcome(
    database: str, wechat_stub: WeChatStub
) -> None:
    env = build_env(wechat_stub, catalog=dict(services.template_catalog()))
    message_id = await env.enqueue("k1")
    (zombie_claim,) = await services.claim_due(now=env.clock.now, limit=10, lease_s=1, owner="zombie")
    env.clock.advance(2)
    await env.dispatcher.run_once()
    assert (await env.message(message_id)).status is OutboxStatus.SENT
    assert not await services.finish(zombie_claim, OutboxStatus.PENDING, now=env.clock.now)
    assert (await env.message(message_id)).status is OutboxStatus.SENT
