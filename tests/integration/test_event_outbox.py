"""The transactional event outbox, on SQLite and PostgreSQL, on the in-memory bus and Redis.

Events commit with the change that caused them; the relay publishes them later, at least once, in
order, under a leader lease; consumers dedup by event id (issue 14, item 2)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Mapping

import pytest
from tortoise.transactions import in_transaction

from adapters import redis_ports
from adapters.memory import MemoryEventBus, MemoryLock
from config.workers import embedded_workers
from domain.complaints import intake, services
from domain.complaints.rules import Action
from domain.credit import events as credit_events
from domain.credit import services as credit_services
from domain.credit.models import CreditRecord
from domain.events import DomainEvent
from domain.outbox import services as outbox
from domain.outbox.models import OutboxEvent
from domain.outbox.relay import LEADER_LOCK, EventRelay, RelayOptions
from domain.ports import EventBus
from tests.integration.iot_helpers import wait_for
from tests.integration.test_complaints_api import seed_sites
from tests.integration.test_complaints_services import STAFF, report

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


class DyingBus(MemoryEventBus):
    """A bus whose publish fails from the ``fail_at``-th call on: the process dying, or Redis down."""

    def __init__(self, fail_at: int) -> None:
        super().__init__()
        self.calls, self.fail_at = 0, fail_at

    async def publish(self, stream: str, fields: Mapping[str, str], *, maxlen: int | None = None) -> str:
        self.calls += 1
        if self.calls >= self.fail_at:
            raise ConnectionError("the bus is gone")
        return await super().publish(stream, fields, maxlen=maxlen)


@pytest.fixture(params=["memory", "redis"])
async def bus(request: pytest.FixtureRequest, key_prefix: str) -> AsyncIterator[EventBus]:
    if request.param == "memory":
        yield MemoryEventBus()
        return
    url = request.getfixturevalue("redis_url")
    client = redis_ports.connect(url)
    try:
        yield redis_ports.RedisEventBus(client, key_prefix)
    finally:
        keys = [key async for key in client.scan_iter(match=f"{key_prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def _credit_pass(bus: EventBus) -> int:
    catalogue = credit_services.rule_catalogue()
    total = 0
    while handled := await credit_events.consume_once(bus, consumer="test", catalogue=catalogue):
        total += handled
    return total


async def _upheld_ticket() -> str:
    await seed_sites()
    ticket = await intake.submit(report(), now=NOW)
    await services.staff_act(ticket.ticket_no, Action.ACCEPT, principal=STAFF, now=NOW)
    return ticket.ticket_no


async def test_a_crash_between_commit_and_publish_loses_no_credit_penalty(
    database: str, bus: EventBus
) -> None:
    """Uphold commits; the process dies before any relay ran. A relay started later delivers the
    event, the credit penalty is recorded once, and a retried uphold adds nothing."""
    await credit_events.ensure_groups(bus)
    ticket_no = await _upheld_ticket()
    await services.uphold(ticket_no, principal=STAFF, now=NOW)  # ... and then the process is killed
    assert await _credit_pass(bus) == 0  # nothing reached the bus yet
    assert await CreditRecord.all().count() == 0

    # The staff member retries (the page had shown an error): the ticket is upheld, no second event.
    await services.uphold(ticket_no, principal=STAFF, now=NOW + dt.timedelta(minutes=1))
    assert await OutboxEvent.filter(name="ComplaintUpheld").count() == 1

    relay = EventRelay(bus, MemoryLock(), RelayOptions(owner="relay-after-restart"))
    assert await relay.step(now=NOW + dt.timedelta(minutes=2)) == 1
    assert await relay.step(now=NOW + dt.timedelta(minutes=2)) == 0
    assert await _credit_pass(bus) == 1
    records = await CreditRecord.all()
    assert [r.source_event_id for r in records] == [f"complaint-upheld-{ticket_no}"]


async def test_redelivery_after_a_relay_crash_gives_one_record(database: str, bus: EventBus) -> None:
    """The relay published, then died before marking the row: the next leader publishes again, and the
    credit consumer dedups by event id."""
    await credit_events.ensure_groups(bus)
    ticket_no = await _upheld_ticket()
    await services.uphold(ticket_no, principal=STAFF, now=NOW)
    assert await outbox.relay_once(bus, batch=10, now=NOW) == 1
    await OutboxEvent.all().update(published_at=None)  # the mark never happened
    assert await outbox.relay_once(bus, batch=10, now=NOW) == 1
    assert await _credit_pass(bus) == 2  # both copies consumed and acknowledged ...
    assert await CreditRecord.filter(source_event_id=f"complaint-upheld-{ticket_no}").count() == 1  # once


async def test_events_roll_back_with_their_change(database: str) -> None:
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await outbox.append(DomainEvent("Probe", {"n": 1}), aggregate="probe:1")
            raise RuntimeError("the change failed")
    assert await OutboxEvent.all().count() == 0
    async with in_transaction():
        assert await outbox.append(DomainEvent("Probe", {"n": 2}, event_id="probe-2"))
        assert not await outbox.append(DomainEvent("Probe", {"n": 2}, event_id="probe-2"))  # a retry
        await outbox.append(DomainEvent("Probe", {"n": 3}))  # the transaction is still usable
    assert await OutboxEvent.all().count() == 2


async def test_relay_keeps_order_per_aggregate_across_batches_and_failures(database: str) -> None:
    """Twelve events over three aggregates, a relay of batch 5 whose bus dies on the 8th publish: the
    first pass stops there, the next one resumes at the same event, and every aggregate's events
    arrive in the order they were written, each once."""
    for n in range(12):
        async with in_transaction():
            await outbox.append(DomainEvent("Step", {"agg": n % 3, "n": n}), aggregate=f"agg:{n % 3}")
    dying = DyingBus(fail_at=8)
    await dying.ensure_group("events.Step", "g")
    assert await outbox.relay_once(dying, batch=5, now=NOW) == 5
    with pytest.raises(ConnectionError):
        await outbox.relay_once(dying, batch=5, now=NOW)
    assert await outbox.backlog() == 5  # two of the second batch went out and were marked
    dying.fail_at = 10**6  # the bus is back
    assert await outbox.relay_once(dying, batch=5, now=NOW) == 5
    messages = await dying.read("events.Step", "g", "c", count=100)
    seen = [json.loads(m.fields["payload"]) for m in messages]
    assert [s["n"] for s in seen] == list(range(12))
    for agg in range(3):
        assert [s["n"] for s in seen if s["agg"] == agg] == list(range(agg, 12, 3))


async def test_only_the_leader_relays(database: str) -> None:
    bus, lock = MemoryEventBus(), MemoryLock()
    async with in_transaction():
        await outbox.append(DomainEvent("Step", {"n": 1}))
    leader = EventRelay(bus, lock, RelayOptions(owner="a"))
    follower = EventRelay(bus, lock, RelayOptions(owner="b"))
    assert await leader.step(now=NOW) == 1
    async with in_transaction():
        await outbox.append(DomainEvent("Step", {"n": 2}))
    assert await follower.step(now=NOW) == 0
    assert not follower.leading
    assert await leader.step(now=NOW) == 1


async def test_published_events_are_purged_after_the_retention(database: str) -> None:
    bus = MemoryEventBus()
    async with in_transaction():
        await outbox.append(DomainEvent("Step", {"n": 1}))
    relay = EventRelay(bus, MemoryLock(), RelayOptions(owner="a", retention=dt.timedelta(days=7)))
    assert await relay.step(now=NOW) == 1
    relay_later = EventRelay(bus, MemoryLock(), RelayOptions(owner="b", retention=dt.timedelta(days=7)))
    await relay_later.step(now=NOW + dt.timedelta(days=6))
    assert await OutboxEvent.all().count() == 1
    await EventRelay(bus, MemoryLock(), RelayOptions(owner="c")).step(now=NOW + dt.timedelta(days=8))
    assert await OutboxEvent.all().count() == 0


async def test_the_relay_worker_publishes_until_cancelled_then_hands_over(database: str) -> None:
    bus, lock = MemoryEventBus(), MemoryLock()
    await bus.ensure_group("events.Step", "g")
    task = asyncio.create_task(EventRelay(bus, lock, RelayOptions(owner="w", poll_s=0.01)).run())
    async with in_transaction():
        await outbox.append(DomainEvent("Step", {"n": 1}))

    async def relayed() -> bool:
        return await outbox.backlog() == 0

    await wait_for(relayed, what="the relay worker's pass")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert await lock.owner(LEADER_LOCK) is None  # the next process leads at once
    assert len(await bus.read("events.Step", "g", "c")) == 1
    assert "event-relay" in dict(embedded_workers())  # embedded, and `python -m config worker event-relay`
