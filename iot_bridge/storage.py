"""Where readings go besides the rules: raw readings to a Redis Stream (production, trimmed by
MAXLEN) or an in-process ring buffer (embedded), and minute aggregates batched into the database."""

from __future__ import annotations

import datetime as dt
import json
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from domain.alerts.readings import AGGREGATED_METRICS, AggregateRow
from domain.alerts.telemetry import Reading
from domain.ports import EventBus

RAW_STREAM = "iot.raw"
RAW_STREAM_MAXLEN = 1_000_000


def raw_record(reading: Reading) -> dict[str, Any]:
    return {
        "d": reading.device_code,
        "s": reading.site_code,
        "t": reading.device_type,
        "at": reading.at.timestamp(),
        "v": dict(reading.values),
        "f": dict(reading.flags),
    }


class RawSink(Protocol):
    async def write(self, records: list[dict[str, Any]]) -> None: ...


class StreamRawSink:
    """One stream entry per batch (a JSON list): a 3,000 msg/s ingest is a handful of XADDs a second
    instead of 3,000 round trips. MAXLEN counts entries, so it bounds memory by batches."""

    def __init__(
        self, bus: EventBus, *, stream: str = RAW_STREAM, maxlen: int = RAW_STREAM_MAXLEN // 100
    ) -> None:
        self._bus, self._stream, self._maxlen = bus, stream, maxlen

    async def write(self, records: list[dict[str, Any]]) -> None:
        if records:
            await self._bus.publish(
                self._stream, {"readings": json.dumps(records, separators=(",", ":"))}, maxlen=self._maxlen
            )


class RingRawSink:
    """Embedded mode: the last ``size`` raw readings in memory."""

    def __init__(self, size: int = 50_000) -> None:
        self.records: deque[dict[str, Any]] = deque(maxlen=size)

    async def write(self, records: list[dict[str, Any]]) -> None:
        self.records.extend(records)


@dataclass
class MinuteAggregator:
    """Accumulates per (device, metric, minute); completed minutes are taken out for one bulk insert."""

    _acc: dict[tuple[str, str, str, int], list[float]] = field(default_factory=dict)

    def add(self, reading: Reading) -> None:
        minute = int(reading.at.timestamp() // 60)
        for metric, value in reading.values.items():
            if metric not in AGGREGATED_METRICS:
                continue
            key = (reading.site_code, reading.device_code, metric, minute)
            acc = self._acc.get(key)
            if acc is None:
                acc = self._acc[key] = [0, 0.0, value, value, 0, 0.0]
            acc[0] += 1
            acc[1] += value
            acc[2] = min(acc[2], value)
            acc[3] = max(acc[3], value)
            if reading.flags.get(metric, "N") == "N":
                acc[4] += 1
                acc[5] += value

    def take(self, *, before_minute: int | None = None) -> list[AggregateRow]:
        """Rows for minutes before ``before_minute`` (all of them when None, e.g. at shutdown)."""
        keys = [k for k in self._acc if before_minute is None or k[3] < before_minute]
        return list(self._rows(keys))

    def _rows(self, keys: Iterable[tuple[str, str, str, int]]) -> Iterable[AggregateRow]:
        for key in keys:
            site, device, metric, minute = key
            count, total, low, high, valid_count, valid_total = self._acc.pop(key)
            yield AggregateRow(
                site,
                device,
                metric,
                dt.datetime.fromtimestamp(minute * 60, tz=dt.UTC),
                int(count),
                total,
                low,
                high,
                int(valid_count),
                valid_total,
            )

    def restore(self, rows: Iterable[AggregateRow]) -> None:
        """Put back rows whose database write failed, merged with what arrived since."""
        for row in rows:
            key = (row.site_code, row.device_code, row.metric, int(row.minute.timestamp() // 60))
            acc = self._acc.get(key)
            if acc is None:
                self._acc[key] = [
                    row.count,
                    row.total,
                    row.minimum,
                    row.maximum,
                    row.valid_count,
                    row.valid_total,
                ]
                continue
            acc[0] += row.count
            acc[1] += row.total
            acc[2] = min(acc[2], row.minimum)
            acc[3] = max(acc[3], row.maximum)
            acc[4] += row.valid_count
            acc[5] += row.valid_total

    def __len__(self) -> int:
        return len(self._acc)


class RecentReadings:
    """Device times seen lately, per device. MQTT at-least-once delivery (a redelivery after a broker
    restart) and HJ 212 devices resending an unacknowledged frame both repeat a reading; counting
    it twice would skew minute means and duration rules."""

    def __init__(self, per_device: int = 32) -> None:
        self._per_device = per_device
        self._seen: dict[str, deque[float]] = {}

    def repeated(self, device_code: str, at: dt.datetime) -> bool:
        """True if this device already sent a reading stamped ``at``; otherwise remembers it."""
        stamp = at.timestamp()
        recent = self._seen.get(device_code)
        if recent is None:
            recent = self._seen[device_code] = deque(maxlen=self._per_device)
        elif stamp in recent:
            return True
        recent.append(stamp)
        return False
