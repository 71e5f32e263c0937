"""Ports: the outside systems the domain and the entry points talk through.

Each port is a ``typing.Protocol`` with two implementations in ``adapters``: an in-process one (the
embedded default and the unit-test fake) and a Redis one. ``tests/contract`` runs one suite against
both, so they behave the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class BusMessage:
    """One event read from a stream: ``message_id`` is what the consumer acknowledges."""

    stream: str
    message_id: str
    fields: Mapping[str, str]


class EventBus(Protocol):
    """At-least-once streams with consumer groups (Redis Streams semantics).

    A message read by a consumer stays pending for its group until ``ack``; pending messages older
    than ``min_idle_s`` can be claimed by another consumer after a crash.
    """

    async def publish(self, stream: str, fields: Mapping[str, str], *, maxlen: int | None = None) -> str: ...

    async def ensure_group(self, stream: str, group: str) -> None: ...

    async def read(
        self, stream: str, group: str, consumer: str, *, count: int = 10, block_ms: int = 0
    ) -> list[BusMessage]: ...

    async def ack(self, stream: str, group: str, message_ids: Sequence[str]) -> int: ...

    async def claim_stale(
        self, stream: str, group: str, consumer: str, *, min_idle_s: float, count: int = 10
    ) -> list[BusMessage]: ...

    async def pending_count(self, stream: str, group: str) -> int: ...


class DedupStore(Protocol):
    """Remembers keys for a while: the first caller of ``first_seen`` for a key gets True."""

    async def first_seen(self, key: str, ttl_s: float) -> bool: ...

    async def forget(self, key: str) -> None: ...


class Lock(Protocol):
    """Named leases with an owner and a TTL: leader election, camera ownership, token refresh."""

    async def acquire(self, name: str, owner: str, ttl_s: float) -> bool: ...

    async def refresh(self, name: str, owner: str, ttl_s: float) -> bool: ...

    async def release(self, name: str, owner: str) -> bool: ...

    async def owner(self, name: str) -> str | None: ...


class Cache(Protocol):
    """A string cache with a TTL per key (conversation state, tokens, rendered answers)."""

    async def get(self, key: str) -> str | None: ...

    async def get_many(self, keys: list[str]) -> list[str | None]:
        """Several keys in one round trip, in order (None where absent)."""
        ...

    async def set(self, key: str, value: str, ttl_s: float | None = None) -> None: ...

    async def delete(self, key: str) -> None: ...


@dataclass(frozen=True, slots=True)
class GeoHit:
    member: str
    distance_m: float


class GeoIndex(Protocol):
    """Points by member name in named sets, searched by radius nearest first (GEOSEARCH ... ASC)."""

    async def add(self, key: str, member: str, *, lat: float, lng: float) -> None: ...

    async def remove(self, key: str, member: str) -> None: ...

    async def nearest(
        self, key: str, *, lat: float, lng: float, radius_m: float, count: int
    ) -> list[GeoHit]: ...


class MediaStore(Protocol):
    """Content-addressed media (photos, evidence snapshots, approval materials).

    ``put`` returns ``<sha256>.<ext>``: the same bytes give the same reference and one object. An
    object is whole or absent, never half-written. ``get`` raises ``NotFound`` for an unknown
    reference; a malformed one is a ``ValidationFailed``. Local disk (embedded) and S3 (production)."""

    async def put(self, data: bytes, *, content_type: str) -> str: ...

    async def get(self, ref: str) -> bytes: ...

    async def exists(self, ref: str) -> bool: ...
