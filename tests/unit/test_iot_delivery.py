"""At-least-once delivery in the ingest pipeline: a repeated reading counts once, and a failed flush
keeps its raw batch and minute aggregates for the next one."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import pytest

from adapters.config_files import load_rule_config
from adapters.memory import MemoryCache, MemoryEventBus
from config.settings import REPO_ROOT
from domain.alerts.engine import RuleEngine
from domain.alerts.readings import AggregateRow
from domain.alerts.telemetry import Reading
from iot_bridge.pipeline import Pipeline
from iot_bridge.storage import MinuteAggregator, RecentReadings

AT = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
RULES = REPO_ROOT / "config" / "alert_rules.yml"


def dust(minute: int, pm10: float = 60.0, device: str = "WLDUST003101") -> Reading:
    return Reading(
        device, "WL-2026-0031-S1", "dust", AT + dt.timedelta(minutes=minute), {"pm10": pm10}, {"pm10": "N"}
    )


def test_recent_readings_remember_a_bounded_window_per_device() -> None:
    recent = RecentReadings(per_device=3)
    assert not recent.repeated("A", AT)
    assert recent.repeated("A", AT)
    assert not recent.repeated("B", AT)  # another device, same time
    for minute in range(1, 4):
        assert not recent.repeated("A", AT + dt.timedelta(minutes=minute))
    assert not recent.repeated("A", AT)  # pushed out of the window of three


def test_restored_rows_merge_with_what_arrived_since() -> None:
    aggregator = MinuteAggregator()
    aggregator.add(dust(0, 50.0))
    taken = aggregator.take()
    aggregator.add(dust(0, 90.0))
    aggregator.restore(taken)
    (row,) = aggregator.take()
    assert (row.count, row.total, row.minimum, row.maximum, row.valid_count) == (2, 140.0, 50.0, 90.0, 2)


class FlakySink:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.written: list[dict[str, Any]] = []

    async def write(self, records: list[dict[str, Any]]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("redis is down")
        self.written.extend(records)


def make_pipeline(sink: FlakySink) -> Pipeline:
    return Pipeline(
        engine=RuleEngine(load_rule_config(RULES)),
        bus=MemoryEventBus(),
        cache=MemoryCache(),
        raw_sink=sink,
    )


async def test_a_repeated_reading_is_counted_once() -> None:
    pipeline = make_pipeline(FlakySink(0))
    await pipeline.submit(dust(0))
    await pipeline.submit(dust(0))  # redelivered after a reconnect
    await pipeline.submit(dust(1))
    assert pipeline.stats["readings"] == 2
    assert pipeline.stats["duplicates"] == 1


async def test_a_failed_flush_keeps_raw_readings_and_aggregates(monkeypatch: pytest.MonkeyPatch) -> None:
    stored: list[AggregateRow] = []
    database_down = [True]

    async def store(rows: list[AggregateRow]) -> int:
        if database_down[0]:
            raise ConnectionError("database is down")
        stored.extend(rows)
        return len(rows)

    monkeypatch.setattr("domain.alerts.readings.store_aggregates", store)
    sink = FlakySink(failures=1)
    pipeline = make_pipeline(sink)
    await pipeline.submit(dust(0))
    with pytest.raises(ConnectionError):
        await pipeline.flush(final=True)  # the raw sink fails first
    await pipeline.submit(dust(1))
    with pytest.raises(ConnectionError):
        await pipeline.flush(final=True)  # now the raw batch goes, the database fails
    assert [r["at"] for r in sink.written] == [dust(0).at.timestamp(), dust(1).at.timestamp()]
    database_down[0] = False
    await pipeline.flush(final=True)
    assert sorted(row.minute for row in stored) == [dust(0).at, dust(1).at]
    assert all(row.count == 1 for row in stored)


async def test_acknowledgements_wait_for_a_flush_that_stores_the_readings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the broker (PUBACK) or a device (9014) is told was delivered is stored first; a failed
    flush acknowledges nothing, and the current minute is stored before its end."""
    stored: list[AggregateRow] = []
    database_down = [True]

    async def store(rows: list[AggregateRow]) -> int:
        if database_down[0]:
            raise ConnectionError("database is down")
        stored.extend(rows)
        return len(rows)

    async def no_frames(records: list[dict[str, Any]]) -> int:
        return len(records)

    monkeypatch.setattr("domain.alerts.readings.store_aggregates", store)
    monkeypatch.setattr("domain.iot.services.store_frames", no_frames)
    pipeline = make_pipeline(FlakySink(0))
    acked: list[int] = []
    for n in range(3):
        at = AT + dt.timedelta(seconds=n)
        await pipeline.submit(
            Reading("WLDUST003101", "WL-2026-0031-S1", "dust", at, {"pm10": 60.0}, {"pm10": "N"})
        )
        pipeline.after_durable(functools.partial(acked.append, n))
    with pytest.raises(ConnectionError):
        await pipeline.flush()
    assert acked == [] and stored == []
    database_down[0] = False
    await pipeline.flush()
    assert acked == [0, 1, 2]
    assert sum(row.count for row in stored) == 3  # the open minute, as a partial row
    assert pipeline.drops() == {"total": 0}
