"""Report periods (a month, a quarter, a year) on the Asia/Shanghai calendar, pure."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.errors import ValidationFailed

SHANGHAI = ZoneInfo("Asia/Shanghai")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$", re.ASCII)
_YEAR = re.compile(r"^(\d{4})$", re.ASCII)
MIN_YEAR, MAX_YEAR = 2000, 2100


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


PERIOD_KIND_LABELS = {PeriodKind.MONTH: "月报", PeriodKind.QUARTER: "季报", PeriodKind.YEAR: "年报"}


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


_MONTHS = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}


@dataclass(frozen=True, slots=True)
class Period:
    """``first`` is the first local day, ``end`` the first local day after the period."""

    kind: PeriodKind
    first: dt.date

    @property
    def end(self) -> dt.date:
        return _add_months(self.first, _MONTHS[self.kind])

    @property
    def last(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def key(self) -> str:
        if self.kind is PeriodKind.MONTH:
            return f"{self.first.year}-{self.first.month:02d}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        return str(self.first.year)

    @property
    def label(self) -> str:
        if self.kind is PeriodKind.MONTH:
            return f"{self.first.year}年{self.first.month}月"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.first.year}年第{(self.first.month - 1) // 3 + 1}季度"
        return f"{self.first.year}年"

    @property
    def start_utc(self) -> dt.datetime:
        return local_midnight(self.first)

    @property
    def end_utc(self) -> dt.datetime:
        return local_midnight(self.end)

    def previous(self) -> Period:
        return Period(self.kind, _add_months(self.first, -_MONTHS[self.kind]))


def local_midnight(day: dt.date) -> dt.datetime:
    """The UTC instant at which ``day`` begins in Wenling."""
    return dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI).astimezone(dt.UTC)


def parse_period(text: str) -> Period:
    """``2026-10`` (month), ``2026-Q3`` (quarter) or ``2026`` (year)."""
    text = text.strip()
    if match := _MONTH.match(text):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise ValidationFailed("month must be 01..12", code="invalid_period")
        period = Period(PeriodKind.MONTH, dt.date(year, month, 1)) if _year_ok(year) else None
    elif match := _QUARTER.match(text):
        year = int(match[1])
        period = (
            Period(PeriodKind.QUARTER, dt.date(year, 3 * int(match[2]) - 2, 1)) if _year_ok(year) else None
        )
    elif match := _YEAR.match(text):
        year = int(match[1])
        period = Period(PeriodKind.YEAR, dt.date(year, 1, 1)) if _year_ok(year) else None
    else:
        raise ValidationFailed("period must look like 2026-10, 2026-Q3 or 2026", code="invalid_period")
    if period is None:
        raise ValidationFailed(f"year must be between {MIN_YEAR} and {MAX_YEAR - 1}", code="invalid_period")
    return period


def _year_ok(year: int) -> bool:
    return MIN_YEAR <= year < MAX_YEAR
