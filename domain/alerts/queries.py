"""Read side of alarms: lists with filters for managers and staff, and dashboard counts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tortoise.functions import Count

from domain.alerts.models import Alarm
from domain.alerts.rules import AlarmState, Severity
from domain.alerts.services import _row
from domain.errors import ValidationFailed

MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class AlarmQuery:
    site_codes: tuple[str, ...] | None = None  # None: every site (staff); () : none at all
    state: AlarmState | None = None
    open_only: bool = False
    severity: Severity | None = None
    alarm_type: str = ""
    since: dt.datetime | None = None
    page: int = 1
    page_size: int = 20

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= MAX_PAGE_SIZE or not 1 <= self.page <= 100_000:
            raise ValidationFailed("page 1..100000, page_size 1..100", code="invalid_parameter")


def parse_state(value: str) -> AlarmState:
    try:
        return AlarmState(value.strip().lower())
    except ValueError:
        raise ValidationFailed(f"unknown alarm state {value!r}", code="invalid_parameter") from None


def _filtered(query: AlarmQuery) -> Any:
    queryset = Alarm.all()
    if query.site_codes is not None:
        queryset = queryset.filter(site_code__in=list(query.site_codes))
    if query.state is not None:
        queryset = queryset.filter(state=query.state)
    if query.open_only:
        queryset = queryset.filter(active_key__isnull=False)
    if query.severity is not None:
        queryset = queryset.filter(severity=query.severity)
    if query.alarm_type:
        queryset = queryset.filter(alarm_type=query.alarm_type)
    if query.since is not None:
        queryset = queryset.filter(raised_at__gte=query.since)
    return queryset


async def list_alarms(query: AlarmQuery) -> dict[str, Any]:
    queryset = _filtered(query)
    total = await queryset.count()
    rows = (
        await queryset.order_by("-raised_at", "-id")
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    )
    return {
        "items": [_row(alarm) for alarm in rows],
        "total": total,
        "page": query.page,
        "page_size": query.page_size,
    }


async def alarm_counts(query: AlarmQuery) -> dict[str, dict[str, int]]:
    """Counts by state, severity and type for the staff dashboard (same filters as the list)."""
    result: dict[str, dict[str, int]] = {}
    for column in ("state", "severity", "alarm_type"):
        rows = await _filtered(query).annotate(n=Count("id")).group_by(column).values(column, "n")
        result[column] = {str(row[column]): int(row["n"]) for row in rows}
    return result


async def exceedances_today(site_code: str, *, now: dt.datetime, tz: dt.tzinfo) -> int:
    """Dust alarms raised today (local day) on the site: the public summary's exceedance count."""
    local = now.astimezone(tz)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)
    return await Alarm.filter(
        site_code=site_code, alarm_type__startswith="dust_", raised_at__gte=start
    ).count()
