"""Minute aggregates on PostgreSQL live in monthly partitions: the retention job creates the months
ahead and drops expired months; queries and inserts do not notice. SQLite keeps one plain table."""

from __future__ import annotations

import datetime as dt

from tortoise import connections

from domain.alerts import partitions, readings
from domain.alerts.readings import AggregateRow
from tests.integration.iot_helpers import make_site


def test_month_arithmetic_and_expiry() -> None:
    assert partitions.months_to_create(dt.date(2026, 12, 15)) == [
        dt.date(2026, 12, 1),
        dt.date(2027, 1, 1),
        dt.date(2027, 2, 1),
    ]
    names = [partitions.partition_name(dt.date(2026, m, 1)) for m in (6, 7, 8, 9)] + [
        "alert_minute_aggregate_default"
    ]
    assert partitions.expired(names, keep_from=dt.date(2026, 8, 26)) == [
        "alert_minute_aggregate_y2026m06",
        "alert_minute_aggregate_y2026m07",
    ]


async def test_partitions_are_created_used_and_dropped(database: str) -> None:
    await make_site()
    today = dt.date(2026, 11, 24)
    result = await partitions.maintain_partitions(today=today, retention=dt.timedelta(days=90))
    rows = [
        AggregateRow(
            "WL-2026-0031-S1",
            "WLDUST003101",
            "pm10",
            dt.datetime(2026, 11, 24, 2, m, tzinfo=dt.UTC),
            1,
            50.0 + m,
            50.0 + m,
            50.0 + m,
            1,
            50.0 + m,
        )
        for m in range(3)
    ]
    await readings.store_aggregates(rows)
    series = await readings.device_series("WLDUST003101", now=dt.datetime(2026, 11, 24, 3, 0, tzinfo=dt.UTC))
    assert [point["mean"] for point in series["series"]["pm10"]] == [50.0, 51.0, 52.0]
    client = connections.get("default")
    if client.capabilities.dialect != "postgres":
        assert result == {"created": [], "dropped": []}
        return
    assert result["created"] == [
        "alert_minute_aggregate_y2026m11",
        "alert_minute_aggregate_y2026m12",
        "alert_minute_aggregate_y2027m01",
    ]
    _, counted = await client.execute_query("SELECT count(*) AS n FROM alert_minute_aggregate_y2026m11")
    assert counted[0]["n"] == 3
    later = await partitions.maintain_partitions(today=dt.date(2027, 3, 5), retention=dt.timedelta(days=90))
    assert later["dropped"] == ["alert_minute_aggregate_y2026m11"]
    assert await readings.purge_aggregates(older_than=dt.datetime(2027, 1, 1, tzinfo=dt.UTC)) == 0
