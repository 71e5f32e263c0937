"""Range partitions on PostgreSQL, shared by the tables that keep time series (the minute aggregates
by month, the raw HJ 212 frames by day). SQLite keeps plain tables, so every step is a no-op there.

Each table's module says how its partitions are named and cut; this module creates the ones ahead and
drops whole partitions past the retention, instead of deleting row by row."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

from tortoise import connections

log = logging.getLogger(__name__)


def is_postgres(client: Any) -> bool:
    return str(client.capabilities.dialect) == "postgres"


async def partition_table(client: Any, ddl: str) -> None:
    """Migration step: on PostgreSQL, recreate the (new, empty) table as a partitioned one."""
    if is_postgres(client):
        await client.execute_script(ddl)


async def maintain(
    table: str,
    *,
    ranges: Sequence[tuple[str, dt.date, dt.date]],
    expired: Callable[[list[str]], list[str]],
) -> dict[str, list[str]]:
    """Create each (name, from, to) partition of ``table`` if missing; drop those ``expired`` picks."""
    client = connections.get("default")
    if not is_postgres(client):
        return {"created": [], "dropped": []}
    created = []
    for name, start, end in ranges:
        await client.execute_script(
            f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {table} "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )
        created.append(name)
    _, rows = await client.execute_query(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = $1",
        [table],
    )
    dropped = expired([str(row["relname"]) for row in rows])
    for name in dropped:
        await client.execute_script(f"DROP TABLE IF EXISTS {name}")
        log.info("dropped expired partition %s", name)
    return {"created": created, "dropped": dropped}
