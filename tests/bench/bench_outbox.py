"""Benchmark: the event relay (event-outbox table -> bus).

Measured in the same run:
- ``relay_events_per_s``: a backlog of ``BENCH_OUTBOX_EVENTS`` committed events published by relay
  passes (batch as configured), against the baseline ``direct_events_per_s``: the same events
  published straight to the bus (what services did before the outbox);
- ``latency_ms`` p50/p99: from an event's commit to a consumer (consumer group, blocking read) having
  it, with the relay running as in production (leader lease, idle poll ``EVENT_RELAY_POLL_S``), one
  event every ~10 ms for ``BENCH_OUTBOX_LATENCY_S`` seconds.

PostgreSQL and Redis when ``DATABASE_URL``/``REDIS_URL`` are set (the database is migrated; the bench's
rows are deleted afterwards), else a scratch SQLite file and the in-memory bus. Prints one JSON line.
Run: ``.venv/bin/python -m tests.bench.bench_outbox`` (short: about 20 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from typing import Any

from tortoise.migrations.api import migrate
from tortoise.transactions import in_transaction

from adapters import memory, redis_ports
from config.container import close_database, init_tortoise
from config.database import tortoise_config
from domain.events import STREAM_MAXLEN, DomainEvent, stream_of
from domain.outbox import services as outbox
from domain.outbox.models import OutboxEvent
from domain.outbox.relay import EventRelay, RelayOptions
from domain.ports import EventBus, Lock

EVENTS = int(os.environ.get("BENCH_OUTBOX_EVENTS", "3000"))
LATENCY_S = float(os.environ.get("BENCH_OUTBOX_LATENCY_S", "5"))
POLL_S = float(os.environ.get("EVENT_RELAY_POLL_S", "0.2"))
BATCH = int(os.environ.get("EVENT_RELAY_BATCH", "200"))
RUN = uuid.uuid4().hex[:8]


async def _commit(name: str, payload: dict[str, Any]) -> None:
    async with in_transaction():
        await outbox.append(DomainEvent(name, payload, event_id=f"bench-{RUN}-{uuid.uuid4().hex}"))


def _progress(what: str) -> None:
    print(f"bench_outbox: {what}", file=sys.stderr, flush=True)


async def throughput(bus: EventBus) -> dict[str, float]:
    name = f"BenchBacklog{RUN}"
    for start in range(0, EVENTS, 100):  # the backlog: the producers' cost is not what is measured
        async with in_transaction():
            for n in range(start, min(start + 100, EVENTS)):
                await outbox.append(DomainEvent(name, {"n": n}, event_id=f"bench-{RUN}-{n}"))
    _progress(f"{EVENTS} events committed; relaying")
    started = time.perf_counter()
    sent = 0
    while batch := await outbox.relay_once(bus, batch=BATCH, now=dt.datetime.now(dt.UTC)):
        sent += batch
    relay_s = time.perf_counter() - started
    direct = [DomainEvent(f"BenchDirect{RUN}", {"n": n}).to_fields() for n in range(EVENTS)]
    started = time.perf_counter()
    for fields in direct:
        await bus.publish(stream_of(f"BenchDirect{RUN}"), fields, maxlen=STREAM_MAXLEN)
    direct_s = time.perf_counter() - started
    assert sent == EVENTS, (sent, EVENTS)
    return {
        "relay_events_per_s": round(EVENTS / relay_s),
        "direct_events_per_s": round(EVENTS / direct_s),
        "relay_vs_direct": round(direct_s / relay_s, 3),
    }


async def latency(bus: EventBus, lock: Lock) -> dict[str, float]:
    _progress("throughput measured; latency run")
    name = f"BenchLatency{RUN}"
    stream = stream_of(name)
    await bus.ensure_group(stream, "bench")
    committed: dict[int, float] = {}
    delays: list[float] = []
    produced: list[int] = []  # set once, to how many events were committed
    all_in = asyncio.Event()
    relay = asyncio.create_task(
        EventRelay(bus, lock, RelayOptions(owner=f"bench-{RUN}", batch=BATCH, poll_s=POLL_S)).run()
    )

    stop = asyncio.Event()

    async def consume() -> None:
        # Stopped by a flag, not cancelled: cancelling redis-py inside a blocking XREADGROUP hung.
        while not stop.is_set():
            for message in await bus.read(stream, "bench", "c", count=100, block_ms=50):
                received = time.perf_counter()
                n = json.loads(message.fields["payload"])["n"]
                delays.append(received - committed[n])
                await bus.ack(stream, "bench", [message.message_id])
            if produced and len(delays) >= produced[0]:
                all_in.set()

    consumer = asyncio.create_task(consume())
    n = 0
    deadline = time.perf_counter() + LATENCY_S
    while time.perf_counter() < deadline:
        await _commit(name, {"n": n})
        committed[n] = time.perf_counter()
        n += 1
        await asyncio.sleep(0.01)
    produced.append(n)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_in.wait(), 10)
    stop.set()
    await consumer
    relay.cancel()
    await asyncio.gather(relay, return_exceptions=True)
    ordered = sorted(delays)
    return {
        "latency_events": len(ordered),
        "latency_p50_ms": round(statistics.median(ordered) * 1000, 1),
        "latency_p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
        "poll_s": POLL_S,
    }


async def main() -> dict[str, Any]:
    database_url = os.environ.get("DATABASE_URL", "")
    scratch = tempfile.TemporaryDirectory()
    url = database_url or f"sqlite://{scratch.name}/bench.sqlite3"
    await migrate(config=tortoise_config(url))
    await close_database()
    await init_tortoise(url)
    redis_url = os.environ.get("REDIS_URL", "")
    client = redis_ports.connect(redis_url) if redis_url else None
    prefix = f"bench:{RUN}:"
    bus: EventBus = redis_ports.RedisEventBus(client, prefix) if client else memory.MemoryEventBus()
    lock: Lock = redis_ports.RedisLock(client, prefix) if client else memory.MemoryLock()
    try:
        result: dict[str, Any] = {"bench": "outbox", "database": url.split(":", 1)[0]}
        result["bus"] = "redis" if client else "memory"
        result |= {"events": EVENTS, "batch": BATCH} | await throughput(bus) | await latency(bus, lock)
        return result
    finally:
        await OutboxEvent.filter(event_id__startswith=f"bench-{RUN}-").delete()
        await close_database()
        if client is not None:
            keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()
        scratch.cleanup()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
