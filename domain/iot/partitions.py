"""Daily partitions of ``iot_raw_frame`` on PostgreSQL (SQLite keeps one plain table): migration 0002
recreates the new, empty table partitioned by ``received_at``; the bridge's retention job creates the
days ahead and drops whole days past the retention."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from domain import partitioning
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


async def partition_table(client: Any) -> None:
    """Migration step: on PostgreSQL, recreate the (new, empty) table as a partitioned one."""
    await partitioning.partition_table(client, PARTITIONED_DDL)


async def maintain_partitions(*, today: dt.date, retention: dt.timedelta) -> dict[str, list[str]]:
    return await partitioning.maintain(
        TABLE,
        ranges=[(partition_name(day), day, day + dt.timedelta(days=1)) for day in days_to_create(today)],
        expired=lambda names: expired(names, keep_from=today - retention),
    )
