"""Two dispatchers sharing Redis: only the leader sends, and every message reaches the user once."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from adapters import redis_ports
from adapters.infrastructure import Infrastructure
from adapters.memory import MemoryEventBus, MemoryGeoIndex
from adapters.wechat.client import AppCredentials, WeChatClient
from adapters.wechat.dispatcher import LEADER_LOCK, Dispatcher
from domain.notifications import services
from domain.notifications.delivery import DeliveryContext
from domain.notifications.models import OutboxMessage
from domain.notifications.rules import OutboxStatus
from tests.wechat_stub.server import WeChatStub

USERS = [f"oUSER{n:021d}" for n in range(24)]


@pytest.fixture
async def redis_infra(redis_url: str, key_prefix: str) -> AsyncIterator[list[Infrastructure]]:
    """Two 'processes': each with its own Redis client, sharing the server and the key prefix."""
    clients = [redis_ports.connect(redis_url) for _ in range(2)]
    infras = [
        Infrastructure(
            bus=MemoryEventBus(),
            dedup=redis_ports.RedisDedupStore(client, key_prefix),
            lock=redis_ports.RedisLock(client, key_prefix),
            cache=redis_ports.RedisCache(client, key_prefix),
            geo=MemoryGeoIndex(),
            redis_backed=True,
        )
        for client in clients
    ]
    yield infras
    for client in clients:
        await client.aclose()


def dispatcher_on(infra: Infrastructure, stub: WeChatStub, name: str) -> Dispatcher:
    client = WeChatClient(
        api_base=stub.base_url,
        official=AppCredentials("wx-test", "s3cret"),
        miniprogram=None,
        cache=infra.cache,
        lock=infra.lock,
        timeout_s=2.0,
    )
    context = DeliveryContext(sender=client, catalog={}, admin_openids=())
    return Dispatcher(infra=infra, context=context, poll_interval_s=0.02, owner=name)


async def _enqueue_all(now: dt.datetime) -> None:
    for openid in USERS:
        await services.record_interaction(openid, now=now)
        await services.enqueue(
            recipient_openid=openid,
            text=f"通知 {openid[-3:]}",
            idempotency_key=f"lead:{openid}",
            category="test",
        )


async def test_only_the_leader_dispatches(
    database: str, wechat_stub: WeChatStub, redis_infra: list[Infrastructure]
) -> None:
    await _enqueue_all(dt.datetime.now(dt.UTC))
    first = dispatcher_on(redis_infra[0], wechat_stub, "first")
    second = dispatcher_on(redis_infra[1], wechat_stub, "second")
    assert await first.run_once() == len(USERS)
    await services.enqueue(
        recipient_openid=USERS[0], text="再来一条", idempotency_key="lead:more", category="test"
    )
    assert await second.run_once() == 0, "not the leader: claims nothing"
    assert await redis_infra[1].lock.owner(LEADER_LOCK) == "first"
    assert await first.run_once() == 1


async def test_two_running_dispatchers_send_each_message_once(
    database: str, wechat_stub: WeChatStub, redis_infra: list[Infrastructure]
) -> None:
    dispatchers = [dispatcher_on(infra, wechat_stub, f"d{n}") for n, infra in enumerate(redis_infra)]
    tasks = [asyncio.create_task(dispatcher.run()) for dispatcher in dispatchers]
    try:
        await _enqueue_all(dt.datetime.now(dt.UTC))
        for _ in range(400):  # up to 20 s
            if await OutboxMessage.filter(status=OutboxStatus.SENT).count() >= len(USERS):
                break
            await asyncio.sleep(0.05)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    delivered = Counter(message["openid"] for message in wechat_stub.sent)
    assert delivered == Counter(USERS), "each user got exactly one message"
    assert wechat_stub.calls_to("custom") == len(USERS)
    assert wechat_stub.calls_to("stable_token") == 1, "one token shared through Redis"
    # The leader released its lease on the way out.
    assert await redis_infra[0].lock.owner(LEADER_LOCK) is None


async def test_a_dead_leader_is_replaced_within_its_ttl(
    database: str, wechat_stub: WeChatStub, redis_infra: list[Infrastructure]
) -> None:
    """Issue 14, fault 6: a SIGKILLed leader never releases its lease; the other dispatcher must take
    over (and send what is due) within LEADER_TTL_S, not minutes later."""
    from adapters.wechat.dispatcher import LEADER_TTL_S  # noqa: PLC0415

    assert await redis_infra[0].lock.acquire(LEADER_LOCK, "killed", LEADER_TTL_S)
    await _enqueue_all(dt.datetime.now(dt.UTC))
    heir = dispatcher_on(redis_infra[1], wechat_stub, "heir")
    loop = asyncio.get_running_loop()
    started = loop.time()
    while await heir.run_once() == 0:
        assert loop.time() - started < LEADER_TTL_S + 2, "the heir never took over"
        await asyncio.sleep(0.5)
    assert await redis_infra[1].lock.owner(LEADER_LOCK) == "heir"
    assert Counter(message["openid"] for message in wechat_stub.sent) == Counter(USERS)
