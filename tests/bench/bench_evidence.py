"""Benchmark: the evidence log on the real database (PostgreSQL when ``DATABASE_URL`` is set, else
a scratch SQLite file).

Measured in the same run:
- ``add_per_s``: entries stored by the consumer side (``services.add_entry``, one insert each);
- ``sequence_per_s``: entries sequenced into the tree per second by the batched appender
  (``services.sequence_pending``, ``BENCH_BATCH`` leaves per transaction), with every node stored;
- ``checkpoint_ms``: signing one checkpoint (read the tree head, Ed25519, insert);
- ``inclusion_p50_ms``/``p99`` and ``consistency_p50_ms``/``p99``: proof latency through the service
  at a tree of ``BENCH_LEAVES`` leaves. Those leaves' nodes are generated in memory and bulk-loaded
  (COPY on PostgreSQL); proofs read the stored nodes exactly as the API does;
- ``baseline_ms``: a single primary-key ``SELECT`` of one node, the floor any proof pays once.

Only the ``evidence_*`` tables are emptied (before and after). Prints one JSON line.
Run short: ``BENCH_LEAVES=100000 .venv/bin/python -m tests.bench.bench_evidence`` (the default).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import statistics
import tempfile
import time
from typing import Any

from tortoise import connections
from tortoise.migrations.api import migrate

from config.container import close_database, init_tortoise
from config.database import tortoise_config
from domain.evidence import merkle, services
from domain.evidence.models import LEVEL_SHIFT, node_key
from domain.evidence.notes import Signer

LEAVES = int(os.environ.get("BENCH_LEAVES", "100000"))
APPENDS = int(os.environ.get("BENCH_APPENDS", "1000"))
BATCH = int(os.environ.get("BENCH_BATCH", "256"))
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "300"))
TABLES = ("evidence_entry", "evidence_node", "evidence_tree", "evidence_checkpoint", "evidence_seen")
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
SIGNER = Signer("bench.local/evidence", bytes(32))


async def _empty(postgres: bool) -> None:
    connection = connections.get("default")
    for table in TABLES:
        await connection.execute_script(f"DELETE FROM {table}" if not postgres else f"TRUNCATE {table}")


async def appends() -> dict[str, float]:
    started = time.perf_counter()
    for number in range(APPENDS):
        payload = b'{"kind":"alarm","n":%d,"v":1}' % number
        await services.add_entry(
            event_id=f"b{number}", kind="alarm", ref=str(number), action="raised", data=payload, now=NOW
        )
    added = time.perf_counter() - started
    started = time.perf_counter()
    while await services.sequence_pending(batch_size=BATCH, now=NOW):
        pass
    sequenced = time.perf_counter() - started
    started = time.perf_counter()
    await services.sign_checkpoint(signer=SIGNER, origin=SIGNER.name, now=NOW)
    return {
        "add_per_s": round(APPENDS / added),
        "sequence_per_s": round(APPENDS / sequenced),
        "checkpoint_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def generate() -> tuple[list[tuple[int, bytes]], bytes]:
    frontier = merkle.Frontier()
    rows: list[tuple[int, bytes]] = []
    for number in range(LEAVES):
        for level, index, hash_ in frontier.append(merkle.leaf_hash(number.to_bytes(8, "big"))):
            rows.append((node_key(level, index), hash_))
    return rows, frontier.root()


async def load(rows: list[tuple[int, bytes]], root: bytes, *, database_url: str) -> None:
    if database_url.startswith("postgres"):
        import asyncpg  # noqa: PLC0415 - only the PostgreSQL path needs the raw driver for COPY

        connection = await asyncpg.connect(database_url)
        try:
            await connection.copy_records_to_table("evidence_node", records=rows, columns=["id", "hash"])
        finally:
            await connection.close()
    else:
        await connections.get("default").execute_many(
            "INSERT INTO evidence_node (id, hash) VALUES (?, ?)", rows
        )
    await connections.get("default").execute_query(
        "INSERT INTO evidence_tree (id, size, root, updated_at) VALUES (1, $1, $2, $3)"
        if database_url.startswith("postgres")
        else "INSERT INTO evidence_tree (id, size, root, updated_at) VALUES (1, ?, ?, ?)",
        [LEAVES, root, NOW],
    )


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return round(statistics.median(ordered), 3), round(ordered[int(len(ordered) * 0.99) - 1], 3)


async def latencies(rng: random.Random) -> dict[str, float]:
    inclusion, consistency, baseline = [], [], []
    connection = connections.get("default")
    for _ in range(SAMPLES):
        index = rng.randrange(LEAVES)
        started = time.perf_counter()
        await services.inclusion_proof(leaf_index=index, tree_size=LEAVES)
        inclusion.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        await services.consistency_proof(first=rng.randrange(1, LEAVES), second=LEAVES)
        consistency.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        await connection.execute_query_dict(f"SELECT hash FROM evidence_node WHERE id = {node_key(0, index)}")
        baseline.append((time.perf_counter() - started) * 1000)
    (i50, i99), (c50, c99), (b50, _b99) = (
        percentiles(inclusion),
        percentiles(consistency),
        percentiles(baseline),
    )
    return {"inclusion_p50_ms": i50, "inclusion_p99_ms": i99, "consistency_p50_ms": c50,
            "consistency_p99_ms": c99, "baseline_ms": b50}  # fmt: skip


async def run(database_url: str) -> dict[str, Any]:
    postgres = database_url.startswith("postgres")
    await migrate(config=tortoise_config(database_url))
    await close_database()
    await init_tortoise(database_url)
    try:
        await _empty(postgres)
        result: dict[str, Any] = {"bench": "evidence", "backend": "postgres" if postgres else "sqlite"}
        result |= await appends()
        await _empty(postgres)
        started = time.perf_counter()
        rows, root = generate()
        result["generate_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        await load(rows, root, database_url=database_url)
        result["load_s"] = round(time.perf_counter() - started, 1)
        assert await services.root_at(LEAVES) == root  # the stored tree is the generated one
        result |= {"leaves": LEAVES, "nodes": len(rows), "node_key_shift": LEVEL_SHIFT}
        result |= await latencies(random.Random(7))
        await _empty(postgres)
        return result
    finally:
        await close_database()


def main() -> None:
    url = os.environ.get("DATABASE_URL") or f"sqlite://{tempfile.mkdtemp()}/bench.sqlite3"
    print(json.dumps(asyncio.run(run(url))))


if __name__ == "__main__":
    main()
