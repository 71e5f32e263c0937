"""Periods, rates and comparisons of the reports, pure."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.errors import ValidationFailed
from domain.reports.periods import PeriodKind, parse_period
from domain.reports.rules import compare, duration_summary, rate


@pytest.mark.parametrize(
    ("text", "kind", "first", "end", "previous"),
    [
        ("2026-10", PeriodKind.MONTH, dt.date(2026, 10, 1), dt.date(2026, 11, 1), "2026-09"),
        ("2026-01", PeriodKind.MONTH, dt.date(2026, 1, 1), dt.date(2026, 2, 1), "2025-12"),
        ("2026-Q1", PeriodKind.QUARTER, dt.date(2026, 1, 1), dt.date(2026, 4, 1), "2025-Q4"),
        ("2026-q3", PeriodKind.QUARTER, dt.date(2026, 7, 1), dt.date(2026, 10, 1), "2026-Q2"),
        ("2026", PeriodKind.YEAR, dt.date(2026, 1, 1), dt.date(2027, 1, 1), "2025"),
    ],
)
def test_periods(text: str, kind: PeriodKind, first: dt.date, end: dt.date, previous: str) -> None:
    period = parse_period(text)
    assert (period.kind, period.first, period.end, period.previous().key) == (kind, first, end, previous)
    # Local midnight in Wenling is 16:00 UTC the day before.
    assert period.start_utc == dt.datetime.combine(first - dt.timedelta(days=1), dt.time(16), tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-00", "2026-Q5", "26-10", "", "1999", "2026-10-01", "２０２６"]
)
def test_bad_periods(text: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_period(text)


def test_rates_and_durations() -> None:
    assert rate(1, 3) == 0.3333 and rate(0, 0) is None
    assert duration_summary([]) == {"n": 0, "mean": None, "median": None, "p90": None}
    assert duration_summary([2, 50]) == {"n": 2, "mean": 26.0, "median": 26.0, "p90": 50}


def test_compare_marks_direction() -> None:
    rows = compare(
        {"complaints": {"total": 5, "on_time_rate": 0.8}}, {"complaints": {"total": 4, "on_time_rate": None}}
    )
    by_key = {(r["section"], r["key"]): r for r in rows}
    assert (
        by_key[("complaints", "total")]["trend"] == "worse"
        and by_key[("complaints", "total")]["change"] == 0.25
    )
    assert by_key[("complaints", "on_time_rate")]["delta"] is None
