"""Domain events: how contexts talk to each other without touching each other's tables.

An event is published on the bus stream ``events.<name>`` with a stable ``event_id``; consumers use a
consumer group per context and must be idempotent on ``event_id`` (delivery is at-least-once).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.ports import BusMessage, EventBus

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
