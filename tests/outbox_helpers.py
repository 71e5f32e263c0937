"""Test helper: run the event relay until the outbox is empty (what the relay worker does)."""

from __future__ import annotations

import datetime as dt

from domain.outbox.services import relay_once
from domain.ports import EventBus


async def relay_all(bus: EventBus) -> int:
    """Publish every pending domain event to ``bus``; returns how many."""
    total = 0
    while sent := await relay_once(bus, batch=500, now=dt.datetime.now(dt.UTC)):
        total += sent
    return total
