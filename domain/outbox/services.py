"""Append events inside the caller's transaction; the relay's pass publishes them in order.

``append`` joins the transaction the caller has open (Tortoise routes queries to it), so the event
commits or rolls back with the state change. The relay publishes rows in ``id`` order: one row's
aggregate is changed under that row's lock, so the later transaction also gets the later id, and
per-aggregate order holds. Publication is at least once (a crash between publish and mark publishes
again), so consumers dedup by ``event_id``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.events import STREAM_MAXLEN, DomainEvent, stream_of
from domain.outbox.models import OutboxEvent
from domain.ports import EventBus

log = logging.getLogger(__name__)


async def append(event: DomainEvent, *, aggregate: str = "", now: dt.datetime | None = None) -> bool:
    """Write ``event`` in the caller's open transaction; False if its id was already written.

    A repeated id is a retried change with a stable event id: it is skipped inside a savepoint, so the
    caller's transaction goes on (PostgreSQL would otherwise abort it)."""
    try:
        async with in_transaction():
            await OutboxEvent.create(
                event_id=event.event_id,
                name=event.name,
                aggregate=aggregate[:120],
                payload=json.dumps(event.payload, ensure_ascii=False),
                created_at=now or dt.datetime.now(dt.UTC),
            )
    except IntegrityError:
        log.info("event %s %s is already in the outbox", event.name, event.event_id)
        return False
    return True


async def record(event: DomainEvent, *, aggregate: str = "", now: dt.datetime | None = None) -> bool:
    """``append`` in a transaction of its own, for an entry point whose change has no transaction to
    join (the event is still durable before the caller answers)."""
    async with in_transaction():
        return await append(event, aggregate=aggregate, now=now)


async def relay_once(bus: EventBus, *, batch: int, now: dt.datetime) -> int:
    """Publish up to ``batch`` unpublished events, oldest first, and mark them; returns how many.

    A failed publish stops the pass there (the rest keep their order for the next pass); what was
    already published is still marked."""
    rows = await OutboxEvent.filter(published_at__isnull=True).order_by("id").limit(batch)
    done: list[int] = []
    try:
        for row in rows:
            fields = {"event_id": row.event_id, "name": row.name, "payload": row.payload}
            await bus.publish(stream_of(row.name), fields, maxlen=STREAM_MAXLEN)
            done.append(row.id)
    finally:
        if done:
            await OutboxEvent.filter(id__in=done).update(published_at=now)
    return len(done)


async def purge_published(*, before: dt.datetime) -> int:
    """Forget events published before ``before`` (consumers have had them for the retention time)."""
    return await OutboxEvent.filter(published_at__lt=before).delete()


async def backlog() -> int:
    """Events not yet published (for health and the bench)."""
    return await OutboxEvent.filter(published_at__isnull=True).count()
