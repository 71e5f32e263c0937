"""In-process implementations of the ports: the embedded-mode default and the unit-test fakes.

They hold state in this process only, so they are correct for one process; production uses
``adapters.redis_ports``. Time comes from an injectable monotonic clock so tests can move it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from domain.geo import haversine_m
from domain.ports import BusMessage, GeoHit

Clock = Callable[[], float]


class MemoryCache:
    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._items: dict[str, tuple[str, float | None]] = {}

    async def get(self, key: str) -> str | None:
        item = self._items.get(key)
        if item is None:
            return None
        value, expires_at = item
        if expires_at is not None and expires_at <= self._clock():
            del self._items[key]
            return None
        return value

    async def get_many(self, keys: list[str]) -> list[str | None]:
        return [await self.get(key) for key in keys]

    async def set(self, key: str, value: str, ttl_s: float | None = None) -> None:
        expires_at = None if ttl_s is None else self._clock() + ttl_s
        self._items[key] = (value, expires_at)

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)


class MemoryDedupStore:
    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._cache = MemoryCache(clock)

    async def first_seen(self, key: str, ttl_s: float) -> bool:
        if await self._cache.get(key) is not None:
            return False
        await self._cache.set(key, "1", ttl_s)
        return True

    async def forget(self, key: str) -> None:
        await self._cache.delete(key)


class MemoryLock:
    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._leases: dict[str, tuple[str, float]] = {}

    def _current(self, name: str) -> str | None:
        lease = self._leases.get(name)
        if lease is None or lease[1] <= self._clock():
            self._leases.pop(name, None)
            return None
        return lease[0]

    async def acquire(self, name: str, owner: str, ttl_s: float) -> bool:
        if self._current(name) is not None:
            return False
        self._leases[name] = (owner, self._clock() + ttl_s)
        return True

    async def refresh(self, name: str, owner: str, ttl_s: float) -> bool:
        if self._current(name) != owner:
            return False
        self._leases[name] = (owner, self._clock() + ttl_s)
        return True

    async def release(self, name: str, owner: str) -> bool:
        if self._current(name) != owner:
            return False
        del self._leases[name]
        return True

    async def owner(self, name: str) -> str | None:
        return self._current(name)


class MemoryGeoIndex:
    def __init__(self) -> None:
        self._sets: dict[str, dict[str, tuple[float, float]]] = {}

    async def add(self, key: str, member: str, *, lat: float, lng: float) -> None:
        self._sets.setdefault(key, {})[member] = (lat, lng)

    async def remove(self, key: str, member: str) -> None:
        self._sets.get(key, {}).pop(member, None)

    async def nearest(self, key: str, *, lat: float, lng: float, radius_m: float, count: int) -> list[GeoHit]:
        hits = (
            GeoHit(member, haversine_m(lat, lng, p_lat, p_lng))
            for member, (p_lat, p_lng) in self._sets.get(key, {}).items()
        )
        in_radius = (hit for hit in hits if hit.distance_m <= radius_m)
        return heapq.nsmallest(count, in_radius, key=lambda hit: (hit.distance_m, hit.member))


@dataclass
class _Group:
    next_index: int = 0
    # message_id -> (consumer, delivered_at)
    pending: dict[str, tuple[str, float]] = field(default_factory=dict)


class MemoryEventBus:
    """Streams kept in lists; groups track a cursor and a pending list, like Redis Streams."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._streams: dict[str, list[tuple[str, dict[str, str]]]] = {}
        self._groups: dict[tuple[str, str], _Group] = {}
        self._ids = itertools.count(1)
        self._new_message = asyncio.Event()

    async def publish(self, stream: str, fields: Mapping[str, str], *, maxlen: int | None = None) -> str:
        message_id = f"{int(time.time() * 1000)}-{next(self._ids)}"
        entries = self._streams.setdefault(stream, [])
        entries.append((message_id, dict(fields)))
        if maxlen is not None and len(entries) > maxlen:
            trimmed = len(entries) - maxlen
            del entries[:trimmed]
            for (name, _group_name), group in self._groups.items():
                if name == stream:
                    group.next_index = max(0, group.next_index - trimmed)
        self._new_message.set()
        self._new_message = asyncio.Event()
        return message_id

    async def ensure_group(self, stream: str, group: str) -> None:
        self._streams.setdefault(stream, [])
        # Like XGROUP CREATE ... $ : a new group only sees messages published after it exists.
        self._groups.setdefault((stream, group), _Group(next_index=len(self._streams[stream])))

    async def read(
        self, stream: str, group: str, consumer: str, *, count: int = 10, block_ms: int = 0
    ) -> list[BusMessage]:
        state = self._require_group(stream, group)
        batch = self._take(stream, state, consumer, count)
        if batch or block_ms <= 0:
            return batch
        waiter = self._new_message
        try:
            await asyncio.wait_for(waiter.wait(), timeout=block_ms / 1000)
        except TimeoutError:
            return []
        return self._take(stream, state, consumer, count)

    def _take(self, stream: str, state: _Group, consumer: str, count: int) -> list[BusMessage]:
        entries = self._streams.get(stream, [])
        chosen = entries[state.next_index : state.next_index + count]
        state.next_index += len(chosen)
        now = self._clock()
        for message_id, _fields in chosen:
            state.pending[message_id] = (consumer, now)
        return [BusMessage(stream, message_id, dict(fields)) for message_id, fields in chosen]

    async def ack(self, stream: str, group: str, message_ids: Sequence[str]) -> int:
        state = self._require_group(stream, group)
        return sum(1 for message_id in message_ids if state.pending.pop(message_id, None) is not None)

    async def claim_stale(
        self, stream: str, group: str, consumer: str, *, min_idle_s: float, count: int = 10
    ) -> list[BusMessage]:
        state = self._require_group(stream, group)
        now = self._clock()
        by_id = dict(self._streams.get(stream, []))
        claimed: list[BusMessage] = []
        for message_id, (_owner, delivered_at) in list(state.pending.items()):
            if len(claimed) >= count:
                break
            if now - delivered_at < min_idle_s:
                continue
            if message_id not in by_id:  # trimmed away: nothing left to deliver
                del state.pending[message_id]
                continue
            state.pending[message_id] = (consumer, now)
            claimed.append(BusMessage(stream, message_id, dict(by_id[message_id])))
        return claimed

    async def pending_count(self, stream: str, group: str) -> int:
        return len(self._require_group(stream, group).pending)

    def _require_group(self, stream: str, group: str) -> _Group:
        state = self._groups.get((stream, group))
        if state is None:
            raise LookupError(f"no consumer group {group!r} on stream {stream!r}; call ensure_group first")
        return state
