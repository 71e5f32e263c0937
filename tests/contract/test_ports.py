"""One contract suite for every port, run against the in-process and the Redis implementation.

The Redis run uses the real server at ``REDIS_URL`` (skipped only when the variable is absent).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from adapters import memory, redis_ports
from domain.geo import haversine_m


@dataclass
class Ports:
    bus: Any
    dedup: Any
    lock: Any
    cache: Any
    geo: Any


@pytest.fixture(params=["memory", "redis"])
async def ports(request: pytest.FixtureRequest, key_prefix: str) -> AsyncIterator[Ports]:
    if request.param == "memory":
        yield Ports(
            memory.MemoryEventBus(),
            memory.MemoryDedupStore(),
            memory.MemoryLock(),
            memory.MemoryCache(),
            memory.MemoryGeoIndex(),
        )
        return
    url = request.getfixturevalue("redis_url")
    client = redis_ports.connect(url)
    yield Ports(
        redis_ports.RedisEventBus(client, key_prefix),
        redis_ports.RedisDedupStore(client, key_prefix),
        redis_ports.RedisLock(client, key_prefix),
        redis_ports.RedisCache(client, key_prefix),
        redis_ports.RedisGeoIndex(client, key_prefix),
    )
    async for key in client.scan_iter(match=f"{key_prefix}*"):
        await client.delete(key)
    await client.aclose()


async def test_cache_round_trip_and_expiry(ports: Ports) -> None:
    await ports.cache.set("a", "1")
    await ports.cache.set("b", "2", ttl_s=0.05)
    assert await ports.cache.get("a") == "1"
    assert await ports.cache.get("b") == "2"
    await asyncio.sleep(0.12)
    assert await ports.cache.get("b") is None
    await ports.cache.delete("a")
    assert await ports.cache.get("a") is None


async def test_cache_reads_many_keys_in_order_with_none_for_the_absent(ports: Ports) -> None:
    await ports.cache.set("x", "1")
    await ports.cache.set("z", "3", ttl_s=0.05)
    assert await ports.cache.get_many(["x", "y", "z"]) == ["1", None, "3"]
    await asyncio.sleep(0.1)
    assert await ports.cache.get_many(["z", "x"]) == [None, "1"]
    assert await ports.cache.get_many([]) == []


async def test_dedup_first_caller_wins_even_concurrently(ports: Ports) -> None:
    results = await asyncio.gather(*(ports.dedup.first_seen("msg-1", 60) for _ in range(10)))
    assert results.count(True) == 1
    assert await ports.dedup.first_seen("msg-2", 60) is True
    await ports.dedup.forget("msg-1")
    assert await ports.dedup.first_seen("msg-1", 60) is True


async def test_dedup_key_expires(ports: Ports) -> None:
    assert await ports.dedup.first_seen("short", 0.05)
    await asyncio.sleep(0.12)
    assert await ports.dedup.first_seen("short", 0.05)


async def test_lock_has_one_owner_and_only_owner_releases(ports: Ports) -> None:
    assert await ports.lock.acquire("leader", "w1", 5)
    assert not await ports.lock.acquire("leader", "w2", 5)
    assert await ports.lock.owner("leader") == "w1"
    assert not await ports.lock.release("leader", "w2")
    assert not await ports.lock.refresh("leader", "w2", 5)
    assert await ports.lock.refresh("leader", "w1", 5)
    assert await ports.lock.release("leader", "w1")
    assert await ports.lock.owner("leader") is None
    assert await ports.lock.acquire("leader", "w2", 5)


async def test_lock_lease_expires_and_can_be_taken_over(ports: Ports) -> None:
    assert await ports.lock.acquire("camera:1", "dead-worker", 0.05)
    await asyncio.sleep(0.12)
    assert await ports.lock.acquire("camera:1", "survivor", 5)
    assert not await ports.lock.refresh("camera:1", "dead-worker", 5)


async def test_geo_nearest_is_sorted_limited_and_matches_haversine(ports: Ports) -> None:
    points = {f"p{i}": (28.30 + i * 0.01, 121.30 + i * 0.008) for i in range(20)}
    for member, (lat, lng) in points.items():
        await ports.geo.add("res", member, lat=lat, lng=lng)
    hits = await ports.geo.nearest("res", lat=28.3531, lng=121.3417, radius_m=8_000, count=5)
    expected = sorted(
        (haversine_m(28.3531, 121.3417, lat, lng), member)
        for member, (lat, lng) in points.items()
        if haversine_m(28.3531, 121.3417, lat, lng) <= 8_000
    )[:5]
    assert [hit.member for hit in hits] == [member for _d, member in expected]
    for hit, (distance, _member) in zip(hits, expected, strict=True):
        assert hit.distance_m == pytest.approx(distance, rel=1e-3, abs=1.0)
    await ports.geo.remove("res", expected[0][1])
    again = await ports.geo.nearest("res", lat=28.3531, lng=121.3417, radius_m=8_000, count=5)
    assert expected[0][1] not in [hit.member for hit in again]


async def test_bus_delivers_once_per_group_and_tracks_acks(ports: Ports) -> None:
    await ports.bus.ensure_group("alarms", "notifier")
    await ports.bus.ensure_group("alarms", "notifier")  # idempotent
    await ports.bus.ensure_group("alarms", "credit")
    for n in range(3):
        await ports.bus.publish("alarms", {"n": str(n)})
    first = await ports.bus.read("alarms", "notifier", "c1", count=2)
    second = await ports.bus.read("alarms", "notifier", "c2", count=10)
    assert [m.fields["n"] for m in first + second] == ["0", "1", "2"]
    other_group = await ports.bus.read("alarms", "credit", "c1", count=10)
    assert len(other_group) == 3
    assert await ports.bus.pending_count("alarms", "notifier") == 3
    assert await ports.bus.ack("alarms", "notifier", [m.message_id for m in first]) == 2
    assert await ports.bus.pending_count("alarms", "notifier") == 1
    assert await ports.bus.read("alarms", "notifier", "c1", count=10) == []


async def test_bus_new_group_sees_only_later_messages(ports: Ports) -> None:
    await ports.bus.publish("events", {"n": "old"})
    await ports.bus.ensure_group("events", "late")
    await ports.bus.publish("events", {"n": "new"})
    messages = await ports.bus.read("events", "late", "c1", count=10)
    assert [m.fields["n"] for m in messages] == ["new"]


async def test_bus_blocking_read_wakes_on_publish(ports: Ports) -> None:
    await ports.bus.ensure_group("wake", "g")
    reader = asyncio.create_task(ports.bus.read("wake", "g", "c1", count=1, block_ms=2_000))
    await asyncio.sleep(0.05)
    await ports.bus.publish("wake", {"k": "v"})
    messages = await asyncio.wait_for(reader, 3)
    assert [m.fields for m in messages] == [{"k": "v"}]


async def test_bus_stale_pending_messages_are_claimed_by_another_consumer(ports: Ports) -> None:
    await ports.bus.ensure_group("frames", "workers")
    await ports.bus.publish("frames", {"frame": "1"})
    taken = await ports.bus.read("frames", "workers", "dead", count=1)
    assert len(taken) == 1
    assert await ports.bus.claim_stale("frames", "workers", "alive", min_idle_s=10) == []
    await asyncio.sleep(0.15)
    claimed = await ports.bus.claim_stale("frames", "workers", "alive", min_idle_s=0.1)
    assert [m.message_id for m in claimed] == [taken[0].message_id]
    assert await ports.bus.ack("frames", "workers", [claimed[0].message_id]) == 1
    assert await ports.bus.pending_count("frames", "workers") == 0


async def test_bus_maxlen_trims_old_messages(ports: Ports) -> None:
    await ports.bus.ensure_group("raw", "g")
    for n in range(500):
        await ports.bus.publish("raw", {"n": str(n)}, maxlen=100)
    messages = await ports.bus.read("raw", "g", "c", count=1000)
    # Redis trims approximately (~), so allow its slack but prove the stream is bounded.
    assert 100 <= len(messages) < 500
    assert messages[-1].fields["n"] == "499"
