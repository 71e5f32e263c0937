"""Test helper: run the event relay until the outbox is empty (what the relay worker does)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from domain.events import EventHandler, consume_once, stream_of
from domain.outbox.services import relay_once
from domain.ports import EventBus


async def relay_all(bus: EventBus) -> int:
    """Publish every pending domain event to ``bus``; returns how many."""
    total = 0
    while sent := await relay_once(bus, batch=500, now=dt.datetime.now(dt.UTC)):
        total += sent
    return total


async def relay_and_consume(
    bus: EventBus, *, group: str, event_names: Sequence[str], handle: EventHandler
) -> int:
    """Relay the outbox to ``bus``, then run one consumer group until nothing is left (what the relay
    and that worker do in production); returns how many events the group handled."""
    for name in event_names:
        await bus.ensure_group(stream_of(name), group)
    await relay_all(bus)
    total = 0
    while handled := await consume_once(
        bus, group=group, consumer="test", event_names=event_names, handle=handle
    ):
        total += handled
    return total
