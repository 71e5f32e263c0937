"""Pure working-day arithmetic on the shared calendar; no I/O except ``load_calendar`` reading YAML.

Conventions (the ones 行政许可法 uses for counting periods):
- the start day itself is not counted: ``add_working_days(Mon, 1)`` is the next working day;
- ``working_days_between(start, end)`` counts working days ``d`` with ``start < d <= end``;
- a deadline is the end (23:59:59 Asia/Shanghai) of the last working day, returned in UTC.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar

from domain.errors import DomainError

log = logging.getLogger(__name__)
SHANGHAI = ZoneInfo("Asia/Shanghai")
END_OF_DAY = dt.time(23, 59, 59)
_EMPTY: Mapping[dt.date, bool] = MappingProxyType({})
# A time limit longer than this many calendar days is a caller bug, not a schedule.
_MAX_SCAN_DAYS = 3660


class CalendarNotCovered(DomainError):
    """The date's year is in neither ``chinese_calendar`` nor the overrides file."""

    code = "calendar_not_covered"
    status = HTTPStatus.SERVICE_UNAVAILABLE


class CalendarFileInvalid(ValueError):
    """``config/calendar_overrides.yml`` is malformed; raised at load time, never at first use."""


def _library_years() -> range:
    # chinese_calendar keeps its data in ``holidays``/``workdays`` dicts keyed by date.
    years = {day.year for day in chinese_calendar.holidays} | {day.year for day in chinese_calendar.workdays}
    return range(min(years), max(years) + 1)


LIBRARY_YEARS = _library_years()


class WorkingCalendar:
    """Answers "is this a working day" for covered years and does deadline arithmetic.

    ``overrides`` maps a date to whether it is a working day. ``covered_years`` names the years the
    overrides describe completely (Mon–Fri plus the overrides); it defaults to the years that appear in
    ``overrides``. Overrides also win inside the library's years (e.g. a late State Council change).
    """

    __slots__ = ("_covered_years", "_overrides", "_provisional_years")

    def __init__(
        self,
        overrides: Mapping[dt.date, bool] = _EMPTY,
        *,
        covered_years: Iterable[int] | None = None,
        provisional_years: Iterable[int] = (),
    ) -> None:
        self._overrides: Mapping[dt.date, bool] = MappingProxyType(dict(overrides))
        years = {day.year for day in overrides} if covered_years is None else set(covered_years)
        self._covered_years = frozenset(years)
        self._provisional_years = frozenset(provisional_years)

    @property
    def override_years(self) -> frozenset[int]:
        return self._covered_years

    @property
    def provisional_years(self) -> frozenset[int]:
        """Years described only by the statutory holidays, before the State Council's notice."""
        return self._provisional_years

    def is_provisional(self, day: dt.date) -> bool:
        """True when ``day``'s year is provisional: deadlines may move once the notice is entered."""
        return day.year in self._provisional_years

    def covers(self, day: dt.date) -> bool:
        return day.year in self._covered_years or day.year in LIBRARY_YEARS

    def is_working_day(self, d: dt.date) -> bool:
        if isinstance(d, dt.datetime):
            d = d.date()
        known = self._overrides.get(d)
        if known is not None:
            return known
        if d.year in self._covered_years:
            return d.weekday() < 5
        if d.year in LIBRARY_YEARS:
            return bool(chinese_calendar.is_workday(d))
        raise CalendarNotCovered(
            f"no working-day calendar for {d.year}: add it to config/calendar_overrides.yml"
        )

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The date ``days`` working days after ``start`` (before it when negative); 0 is ``start``."""
        step = dt.timedelta(days=1 if days >= 0 else -1)
        remaining = abs(days)
        current = start
        scanned = 0
        while remaining:
            current += step
            scanned += 1
            if scanned > _MAX_SCAN_DAYS:
                raise ValueError(f"{days} working days is beyond any legal time limit")
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in ``(start, end]``; negative when ``end`` is before ``start``."""
        if end < start:
            return -self.working_days_between(end, start)
        if (end - start).days > _MAX_SCAN_DAYS:
            raise ValueError("date range too long for working-day counting")
        count = 0
        current = start
        while current < end:
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count

    def due_at(self, start: dt.datetime, working_days: int) -> dt.datetime:
        """End of the ``working_days``-th working day after ``start``'s Shanghai date, in UTC."""
        if start.tzinfo is None:
            raise ValueError("due_at needs a timezone-aware start")
        local_day = start.astimezone(SHANGHAI).date()
        last_day = self.add_working_days(local_day, working_days)
        return dt.datetime.combine(last_day, END_OF_DAY, tzinfo=SHANGHAI).astimezone(dt.UTC)


def local_date(moment: dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar date of an aware instant."""
    return moment.astimezone(SHANGHAI).date()


def parse_overrides(document: Mapping[str, Any]) -> WorkingCalendar:
    """Build a calendar from the overrides document (see the header of the YAML file)."""
    years_raw = document.get("years") or []
    if not isinstance(years_raw, list):
        raise CalendarFileInvalid("'years' must be a list")
    overrides: dict[dt.date, bool] = {}
    covered: set[int] = set()
    provisional: set[int] = set()
    for entry in years_raw:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("year"), int):
            raise CalendarFileInvalid("each entry under 'years' needs an integer 'year'")
        year = int(entry["year"])
        if not entry.get("source"):
            raise CalendarFileInvalid(f"year {year}: 'source' (the State Council notice) is required")
        covered.add(year)
        if entry.get("provisional"):
            provisional.add(year)
        for key, working in (("holidays", False), ("working_weekends", True)):
            for raw in entry.get(key) or []:
                day = raw if isinstance(raw, dt.date) else _parse_date(raw, year=year)
                if day.year != year:
                    raise CalendarFileInvalid(f"year {year}: {day} belongs to another year")
                if day in overrides and overrides[day] != working:
                    raise CalendarFileInvalid(f"{day} is listed as both a holiday and a working day")
                overrides[day] = working
    return WorkingCalendar(overrides, covered_years=covered, provisional_years=provisional)


def _parse_date(raw: object, *, year: int) -> dt.date:
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError as error:
        raise CalendarFileInvalid(f"year {year}: {raw!r} is not an ISO date") from error
