"""Monthly partitions of the minute aggregates on PostgreSQL (SQLite keeps one plain table).

Migration 0002 turns ``alert_minute_aggregate`` into a table partitioned by range of ``minute`` with a
DEFAULT partition as a safety net; the bridge's retention job creates the months ahead and drops whole
months past the retention instead of deleting row by row.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from domain import partitioning

log = logging.getLogger(__name__)
TABLE = "alert_minute_aggregate"
MONTHS_AHEAD = 2

PARTITIONED_DDL = f"""
DROP TABLE {TABLE};
CREATE TABLE {TABLE} (
    id BIGSERIAL NOT NULL,
    site_code VARCHAR(24) NOT NULL,
    device_code VARCHAR(40) NOT NULL,
    metric VARCHAR(24) NOT NULL,
    minute TIMESTAMPTZ NOT NULL,
    count INT NOT NULL,
    total DOUBLE PRECISION NOT NULL,
    minimum DOUBLE PRECISION NOT NULL,
    maximum DOUBLE PRECISION NOT NULL,
    valid_count INT NOT NULL,
    valid_total DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (id, minute)
) PARTITION BY RANGE (minute);
CREATE INDEX idx_{TABLE}_device_minute ON {TABLE} (device_code, minute);
CREATE INDEX idx_{TABLE}_site_minute ON {TABLE} (site_code, minute);
CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT;
"""


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(first: dt.date) -> dt.date:
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def partition_name(first: dt.date) -> str:
    return f"{TABLE}_y{first.year:04d}m{first.month:02d}"


def months_to_create(today: dt.date, *, ahead: int = MONTHS_AHEAD) -> list[dt.date]:
    months = [month_start(today)]
    for _ in range(ahead):
        months.append(next_month(months[-1]))
    return months


def expired(names: list[str], *, keep_from: dt.date) -> list[str]:
    """Partitions whose whole month ends on or before ``keep_from`` (names ``..._yYYYYmMM``)."""
    out = []
    for name in names:
        suffix = name.removeprefix(f"{TABLE}_y")
        if len(suffix) != 7 or suffix[4] != "m" or not (suffix[:4] + suffix[5:]).isdigit():
            continue
        first = dt.date(int(suffix[:4]), int(suffix[5:]), 1)
        if next_month(first) <= keep_from:
            out.append(name)
    return out


async def partition_table(client: Any) -> None:
    """Migration step: on PostgreSQL, recreate the (new, empty) table as a partitioned one."""
    await partitioning.partition_table(client, PARTITIONED_DDL)


async def maintain_partitions(*, today: dt.date, retention: dt.timedelta) -> dict[str, list[str]]:
    """Create this month and the next ones; drop months entirely older than the retention."""
    return await partitioning.maintain(
        TABLE,
        ranges=[(partition_name(first), first, next_month(first)) for first in months_to_create(today)],
        expired=lambda names: expired(names, keep_from=today - retention),
    )
