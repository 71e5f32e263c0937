"""Daily partitions of ``iot_raw_frame`` on PostgreSQL (SQLite keeps one plain table): migration 0002
recreates the new, empty table partitioned by ``received_at``; the bridge's retention job creates the
days ahead and drops whole days past the retention."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from tortoise import connections

from domain.iot.rules import TABLE, days_to_create, expired, partition_name

log = logging.getLogger(__name__)

PARTITIONED_DDL = f"""
DROP TABLE {TABLE};
CREATE TABLE {TABLE} (
    id BIGSERIAL NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    mn VARCHAR(40) NOT NULL,
    source VARCHAR(8) NOT NULL,
    status VARCHAR(12) NOT NULL,
    reason VARCHAR(32) NOT NULL DEFAULT '',
    qn VARCHAR(20) NOT NULL DEFAULT '',
    frame TEXT NOT NULL,
    PRIMARY KEY (id, received_at)
) PARTITION BY RANGE (received_at);
CREATE INDEX idx_{TABLE}_status_at ON {TABLE} (status, received_at);
CREATE INDEX idx_{TABLE}_mn_at ON {TABLE} (mn, received_at);
CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT;
"""


def _is_postgres(client: Any) -> bool:
    return str(client.capabilities.dialect) == "postgres"


async def partition_table(client: Any) -> None:
    if _is_postgres(client):
        await client.execute_script(PARTITIONED_DDL)


async def maintain_partitions(*, today: dt.date, retention: dt.timedelta) -> dict[str, list[str]]:
    client = connections.get("default")
    if not _is_postgres(client):
        return {"created": [], "dropped": []}
    created = []
    for day in days_to_create(today):
        name = partition_name(day)
        await client.execute_script(
            f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {TABLE} "
            f"FOR VALUES FROM ('{day.isoformat()}') TO ('{(day + dt.timedelta(days=1)).isoformat()}')"
        )
        created.append(name)
    _, rows = await client.execute_query(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = $1",
        [TABLE],
    )
    dropped = expired([str(row["relname"]) for row in rows], keep_from=today - retention)
    for name in dropped:
        await client.execute_script(f"DROP TABLE IF EXISTS {name}")
        log.info("dropped expired partition %s", name)
    return {"created": created, "dropped": dropped}
