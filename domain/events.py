"""Domain events: how contexts talk to each other without touching each other's tables.

An event is published on the bus stream ``events.<name>`` with a stable ``event_id``; consumers use a
consumer group per context and must be idempotent on ``event_id`` (delivery is at-least-once).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.errors import DomainError
from domain.ports import BusMessage, EventBus

log = logging.getLogger(__name__)
STREAM_PREFIX = "events."
STREAM_MAXLEN = 100_000


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """``name`` is e.g. ``ComplaintUpheld``; ``payload`` is JSON-serialisable."""

    name: str
    payload: Mapping[str, Any]
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def stream(self) -> str:
        return STREAM_PREFIX + self.name

    def to_fields(self) -> dict[str, str]:
        return {
            "event_id": self.event_id,
            "name": self.name,
            "payload": json.dumps(self.payload, ensure_ascii=False),
        }

    @classmethod
    def from_message(cls, message: BusMessage) -> DomainEvent:
        fields = message.fields
        return cls(name=fields["name"], payload=json.loads(fields["payload"]), event_id=fields["event_id"])


async def publish(bus: EventBus, event: DomainEvent) -> str:
    return await bus.publish(event.stream, event.to_fields(), maxlen=STREAM_MAXLEN)


def stream_of(event_name: str) -> str:
    return STREAM_PREFIX + event_name


EventHandler = Callable[[DomainEvent], Awaitable[object]]
STALE_AFTER_S = 60.0


async def consume_once(
    bus: EventBus,
    *,
    group: str,
    consumer: str,
    event_names: Sequence[str],
    handle: EventHandler,
    block_ms: int = 0,
) -> int:
    """One pass over each stream: messages a crashed consumer left pending first, then new ones.

    A message is acknowledged after ``handle`` returns. A malformed message (a ``DomainError``,
    ``KeyError`` or ``ValueError`` from parsing or handling) is logged and acknowledged, since retrying
    cannot fix it; any other error leaves it pending, to be claimed again after ``STALE_AFTER_S``.
    """
    handled = 0
    for name in event_names:
        stream = stream_of(name)
        stale = await bus.claim_stale(stream, group, consumer, min_idle_s=STALE_AFTER_S)
        fresh = await bus.read(stream, group, consumer, count=50, block_ms=block_ms)
        for message in [*stale, *fresh]:
            try:
                await handle(DomainEvent.from_message(message))
            except (DomainError, KeyError, ValueError) as error:
                log.warning(
                    "%s ignores malformed message %s on %s: %s", group, message.message_id, stream, error
                )
            await bus.ack(stream, group, [message.message_id])
            handled += 1
    return handled


async def run_consumer(
    bus: EventBus, *, group: str, consumer: str, event_names: Sequence[str], handle: EventHandler
) -> None:
    """Consume until cancelled; a failing pass is logged and retried after a pause."""
    for name in event_names:
        await bus.ensure_group(stream_of(name), group)
    while True:
        try:
            await consume_once(
                bus, group=group, consumer=consumer, event_names=event_names, handle=handle, block_ms=1000
            )
        except Exception:
            log.exception("%s consumer pass failed; retrying in 5 s", group)
            await asyncio.sleep(5)
