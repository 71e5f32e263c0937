"""Sensor readings' read and write side: the device registry the bridge maps MNs with, minute
aggregates (bulk-inserted by the bridge), the 24-hour series per device, the public site summary
and the retention purge."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from tortoise import connections

from domain.alerts.models import DeviceHealth, MinuteAggregate
from domain.alerts.queries import exceedances_today
from domain.alerts.sensor_rules import energy, leq_of
from domain.errors import NotFound, ValidationFailed
from domain.projects.models import Device, Site

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
AGGREGATED_METRICS = frozenset(
    {"pm10", "pm25", "tsp", "leq_db", "lmax_db", "moment_pct", "load_pct", "wind_mps"}
)
MAX_SERIES_HOURS = 72


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    code: str
    site_code: str
    device_type: str
    interval_s: int


@dataclass(frozen=True, slots=True)
class AggregateRow:
    site_code: str
    device_code: str
    metric: str
    minute: dt.datetime
    count: int
    total: float
    minimum: float
    maximum: float
    valid_count: int
    valid_total: float


async def registered_devices() -> dict[str, DeviceInfo]:
    rows = await Device.filter(enabled=True, site__active=True).values_list(
        "code", "site__code", "device_type", "interval_s"
    )
    return {
        str(code): DeviceInfo(str(code), str(site), str(kind), int(interval))
        for code, site, kind, interval in rows
    }


# The bridge's hottest write (a city's devices, every minute): plain statements with positional
# rows instead of model instances, whose construction and validation cost more CPU than the insert.
_AGGREGATE_COLUMNS = AggregateRow.__slots__  # the order of the insert below
_NOTE_REPORT = {
    # Only forwards: a late batch for an earlier minute never moves the last report back.
    "postgres": "INSERT INTO alert_device_health (device_code, site_code, first_seen_at, last_seen_at)"
    " VALUES ($1, $2, $3, $3) ON CONFLICT (device_code) DO UPDATE"
    " SET last_seen_at = GREATEST(alert_device_health.last_seen_at, EXCLUDED.last_seen_at)",
    "sqlite": "INSERT INTO alert_device_health (device_code, site_code, first_seen_at, last_seen_at)"
    " VALUES (?1, ?2, ?3, ?3) ON CONFLICT (device_code) DO UPDATE"
    " SET last_seen_at = max(alert_device_health.last_seen_at, excluded.last_seen_at)",
}


_AGGREGATE_INSERT = (
    "INSERT INTO alert_minute_aggregate (site_code, device_code, metric, minute, count, total,"
    " minimum, maximum, valid_count, valid_total) VALUES "
)
_INSERT_AGGREGATES = {
    "postgres": _AGGREGATE_INSERT + "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    "sqlite": _AGGREGATE_INSERT + "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
}


async def store_aggregates(rows: Iterable[AggregateRow]) -> int:
    """One batched insert of the rows, then each device's first and last report."""
    rows = list(rows)
    if not rows:
        return 0
    client = connections.get("default")
    dialect = str(client.capabilities.dialect)
    await client.execute_many(
        _INSERT_AGGREGATES[dialect],
        [[getattr(row, name) for name in _AGGREGATE_COLUMNS] for row in rows],
    )
    await _note_reports(client, dialect, rows)
    return len(rows)


async def _note_reports(client: Any, dialect: str, rows: list[AggregateRow]) -> None:
    """First and last report per device (the device life cycle): one upsert per device in the batch."""
    latest: dict[str, AggregateRow] = {}
    for row in rows:
        seen = latest.get(row.device_code)
        if seen is None or row.minute > seen.minute:
            latest[row.device_code] = row
    await client.execute_many(
        _NOTE_REPORT[dialect], [[r.device_code, r.site_code, r.minute] for r in latest.values()]
    )


async def last_reports() -> dict[str, float]:
    """Device code -> its last report (epoch seconds) for every device that ever reported."""
    rows = await DeviceHealth.all().values_list("device_code", "last_seen_at")
    return {str(code): at.timestamp() for code, at in rows}


async def purge_aggregates(*, older_than: dt.datetime) -> int:
    """Retention: minute aggregates older than this go (on PostgreSQL, dropping a month's partition
    is the cheaper path at scale, see iot_bridge/README.md)."""
    return await MinuteAggregate.filter(minute__lt=older_than).delete()


def _merge(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, dt.datetime], list[float]]:
    merged: dict[tuple[str, dt.datetime], list[float]] = defaultdict(
        lambda: [0, 0.0, float("inf"), float("-inf"), 0, 0.0]
    )
    for row in rows:
        acc = merged[(row["metric"], row["minute"])]
        acc[0] += row["count"]
        acc[1] += row["total"]
        acc[2] = min(acc[2], row["minimum"])
        acc[3] = max(acc[3], row["maximum"])
        acc[4] += row["valid_count"]
        acc[5] += row["valid_total"]
    return merged


async def device_series(
    device_code: str, *, now: dt.datetime, hours: int = 24, metric: str = ""
) -> dict[str, Any]:
    """Per-minute series of the last ``hours`` for one device: mean of valid (flag N) readings,
    plus min/max of everything received."""
    if not 1 <= hours <= MAX_SERIES_HOURS:
        raise ValidationFailed(f"hours must be 1..{MAX_SERIES_HOURS}", code="invalid_parameter")
    device = await Device.filter(code=device_code).values("code", "device_type", "site__code")
    if not device:
        raise NotFound(f"no device {device_code}", code="device_not_found")
    queryset = MinuteAggregate.filter(device_code=device_code, minute__gte=now - dt.timedelta(hours=hours))
    if metric:
        queryset = queryset.filter(metric=metric)
    rows = await queryset.values(
        "metric", "minute", "count", "total", "minimum", "maximum", "valid_count", "valid_total"
    )
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (name, minute), acc in sorted(_merge(rows).items(), key=lambda item: (item[0][0], item[0][1])):
        series[name].append(
            {
                "minute": minute.isoformat(),
                "mean": round(acc[5] / acc[4], 2) if acc[4] else None,
                "min": acc[2],
                "max": acc[3],
                "count": int(acc[0]),
                "valid_count": int(acc[4]),
            }
        )
    return {
        "device_code": device_code,
        "device_type": device[0]["device_type"],
        "site_code": device[0]["site__code"],
        "hours": hours,
        "series": dict(series),
    }


async def site_summary(site_code: str, *, now: dt.datetime) -> dict[str, Any]:
    """Public: the last hour's PM10, PM2.5 and noise (valid readings only) and today's exceedances."""
    site = await Site.filter(code=site_code.strip().upper()).values("code", "name", "project__code")
    if not site:
        raise NotFound(f"no site {site_code}", code="site_not_found")
    code = site[0]["code"]
    rows = await MinuteAggregate.filter(
        site_code=code, minute__gte=now - dt.timedelta(hours=1), metric__in=["pm10", "pm25", "leq_db"]
    ).values("metric", "count", "total", "minimum", "maximum", "valid_count", "valid_total", "minute")
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for row in rows:
        totals[row["metric"]][0] += row["valid_count"]
        totals[row["metric"]][1] += row["valid_total"]

    def mean(metric: str) -> float | None:
        count, total = totals[metric]
        return round(total / count, 1) if count else None

    return {
        "site_code": code,
        "site_name": site[0]["name"],
        "project_code": site[0]["project__code"],
        "pm10_1h": mean("pm10"),
        "pm25_1h": mean("pm25"),
        "noise_leq_1h": mean("leq_db"),
        "exceedances_today": await exceedances_today(code, now=now, tz=LOCAL_TZ),
        "as_of": now.isoformat(),
    }


async def sites_of_project(project_code: str) -> list[str]:
    rows = (
        await Site.filter(project__code=project_code.strip().upper(), active=True)
        .order_by("code")
        .values_list("code", flat=True)
    )
    return [str(row) for row in rows]


async def daily_means(
    site_codes: list[str], *, days: int, now: dt.datetime, metrics: tuple[str, ...] = ("pm10", "leq_db")
) -> list[dict[str, Any]]:
    """Public: per local day (Asia/Shanghai), oldest first, the mean of valid readings of each metric
    over the given sites, for the last ``days`` days including today; None where a day had none."""
    today = now.astimezone(LOCAL_TZ).date()
    first = today - dt.timedelta(days=days - 1)
    start = dt.datetime.combine(first, dt.time(), LOCAL_TZ).astimezone(dt.UTC)
    rows = await MinuteAggregate.filter(
        site_code__in=site_codes, minute__gte=start, metric__in=list(metrics)
    ).values("metric", "minute", "valid_count", "valid_total")
    sums: dict[tuple[dt.date, str], list[float]] = defaultdict(lambda: [0, 0.0])
    for row in rows:
        minute = row["minute"] if row["minute"].tzinfo else row["minute"].replace(tzinfo=dt.UTC)
        entry = sums[(minute.astimezone(LOCAL_TZ).date(), row["metric"])]
        entry[0] += row["valid_count"]
        entry[1] += row["valid_total"]
    result = []
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        means = {}
        for metric in metrics:
            count, total = sums.get((day, metric), (0, 0.0))
            means[metric] = round(total / count, 1) if count else None
        result.append({"day": day.isoformat(), **means})
    return result


@dataclass(frozen=True, slots=True)
class SiteNoise:
    leq_db: float | None  # energy average of the minutes' Leq
    lmax_db: float | None


async def site_noise(site_code: str, *, since: dt.datetime, until: dt.datetime) -> SiteNoise:
    """The site's noise over ``[since, until)`` from the minute aggregates of all its noise monitors:
    what a night-work alarm from a camera is cross-checked with."""
    rows = await MinuteAggregate.filter(
        site_code=site_code, metric__in=["leq_db", "lmax_db"], minute__gte=since, minute__lt=until
    ).values("metric", "count", "total", "maximum")
    leq = [(int(r["count"]), float(r["total"])) for r in rows if r["metric"] == "leq_db" and r["count"]]
    peaks = [float(r["maximum"]) for r in rows if r["metric"] == "lmax_db"]
    levels = [energy(total / count) for count, total in leq]
    mean = leq_of(sum(levels) / len(levels)) if levels else None
    return SiteNoise(None if mean is None else round(mean, 1), max(peaks) if peaks else None)
