"""Raw HJ 212 frames on PostgreSQL live in daily partitions: retention creates the days ahead and
drops whole days past it (rows older than the retention are gone on SQLite too)."""

from __future__ import annotations

import datetime as dt

from tortoise import connections

from domain.iot import rules, services
from domain.iot.models import RawFrame
from domain.iot.rules import FrameStatus


def test_day_arithmetic_and_expiry() -> None:
    assert rules.days_to_create(dt.date(2026, 12, 30), ahead=2) == [
        dt.date(2026, 12, 30),
        dt.date(2026, 12, 31),
        dt.date(2027, 1, 1),
    ]
    names = [rules.partition_name(dt.date(2026, 11, d)) for d in (1, 2, 3)] + ["iot_raw_frame_default"]
    assert rules.expired(names, keep_from=dt.date(2026, 11, 3)) == [
        "iot_raw_frame_d20261101",
        "iot_raw_frame_d20261102",
    ]


def frame(at: dt.datetime, status: FrameStatus = FrameStatus.STORED) -> dict[str, object]:
    return {
        "received_at": at,
        "mn": "WLDUST003101",
        "source": "tcp",
        "status": status,
        "qn": "1",
        "frame": "QN=1",
    }


async def test_frames_are_kept_for_the_retention_then_dropped(database: str) -> None:
    today = dt.datetime.now(dt.UTC).date()
    noon = dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC)
    await services.purge(today=today, retention=dt.timedelta(days=30))  # the days ahead exist
    old = noon - dt.timedelta(days=40)
    await services.store_frames([frame(noon), frame(noon - dt.timedelta(days=1), FrameStatus.QUARANTINED)])
    client = connections.get("default")
    if client.capabilities.dialect == "postgres":
        # An old day's partition, as if created 40 days ago, with a frame in it.
        day = old.date()
        await client.execute_script(
            f"CREATE TABLE {rules.partition_name(day)} PARTITION OF iot_raw_frame "
            f"FOR VALUES FROM ('{day}') TO ('{day + dt.timedelta(days=1)}')"
        )
    await services.store_frames([frame(old)])
    assert await RawFrame.all().count() == 3
    await services.purge(today=today, retention=dt.timedelta(days=30))
    assert await RawFrame.all().count() == 2
    if client.capabilities.dialect == "postgres":
        _, rows = await client.execute_query(
            "SELECT relname FROM pg_class WHERE relname = $1", [rules.partition_name(old.date())]
        )
        assert rows == []  # dropped as a whole day, not row by row
        _, parts = await client.execute_query(
            "SELECT relname FROM pg_class WHERE relname = $1", [rules.partition_name(today)]
        )
        assert len(parts) == 1
