"""SLA clocks on the shared working-day calendar, across the 2026 Spring Festival (2-15..2-23 off,
Saturdays 2-14 and 2-28 worked), plus the hours-level night-noise clock and the status bands."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from domain.calendar.rules import CalendarNotCovered, WorkingCalendar
from domain.complaints.sla import Category, SlaStatus, parse_policy, sla_due, sla_status

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar()
POLICY = parse_policy(
    yaml.safe_load((Path(__file__).parents[2] / "config" / "complaints.yml").read_text("utf-8"))
)


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SH)


def due_local(category: str, start: dt.datetime) -> dt.datetime:
    return sla_due(POLICY.categories[category], start=start, calendar=CAL).astimezone(SH)


def test_the_calendar_knows_the_2026_spring_festival() -> None:
    assert CAL.is_working_day(dt.date(2026, 2, 14))  # adjusted working Saturday
    assert CAL.is_working_day(dt.date(2026, 2, 28))  # adjusted working Saturday
    for day in range(15, 24):
        assert not CAL.is_working_day(dt.date(2026, 2, day))


def test_consultation_filed_the_friday_before_the_festival() -> None:
    # Fri 2-13 + 3 working days: Sat 2-14 (worked), then the holiday, then Tue 2-24, Wed 2-25.
    assert due_local("consultation", sh(2026, 2, 13, 10, 0)) == sh(2026, 2, 25, 23, 59, 59)


def test_complaint_filed_during_the_holiday() -> None:
    # 13 working days from Wed 2-18: 2-24..2-27 (4), Sat 2-28 (5), 3-2..3-6 (10), 3-9..3-11 (13).
    assert due_local("complaint", sh(2026, 2, 18, 9, 0)) == sh(2026, 3, 11, 23, 59, 59)


def test_complaint_filed_on_the_adjusted_saturday() -> None:
    # Sat 2-14 + 13: 2-24..2-27 (4), 2-28 (5), 3-2..3-6 (10), 3-9, 3-10, 3-11 (13).
    assert due_local("complaint", sh(2026, 2, 14, 9, 0)) == sh(2026, 3, 11, 23, 59, 59)


def test_urgent_is_the_same_day_end() -> None:
    assert due_local("urgent", sh(2026, 3, 10, 9, 0)) == sh(2026, 3, 10, 23, 59, 59)


def test_night_noise_runs_on_hours_through_holidays() -> None:
    start = sh(2026, 2, 16, 23, 10)  # a holiday night
    assert due_local("night_noise", start) == sh(2026, 2, 17, 1, 10)


def test_shanghai_date_counts_not_the_utc_date() -> None:
    # 2026-02-13 17:00 UTC is already Saturday 2-14 01:00 in Shanghai.
    start = dt.datetime(2026, 2, 13, 17, 0, tzinfo=dt.UTC)
    assert due_local("consultation", start) == sh(2026, 2, 26, 23, 59, 59)


def test_uncovered_years_fail_loudly() -> None:
    with pytest.raises(CalendarNotCovered):
        due_local("complaint", sh(2031, 5, 6, 9, 0))


def test_status_bands() -> None:
    start, due = sh(2026, 3, 2, 9, 0), sh(2026, 3, 12, 9, 0)  # a 10-day clock: due soon in the last 2.5 days
    kwargs = {"started_at": start, "due_at": due, "due_soon_fraction": 0.25}
    assert sla_status(now=sh(2026, 3, 5, 9, 0), answered_at=None, **kwargs) is SlaStatus.ON_TIME  # type: ignore[arg-type]
    assert sla_status(now=sh(2026, 3, 10, 10, 0), answered_at=None, **kwargs) is SlaStatus.DUE_SOON  # type: ignore[arg-type]
    assert sla_status(now=sh(2026, 3, 12, 9, 1), answered_at=None, **kwargs) is SlaStatus.OVERDUE  # type: ignore[arg-type]
    assert sla_status(now=sh(2026, 3, 20), answered_at=sh(2026, 3, 11), **kwargs) is SlaStatus.MET  # type: ignore[arg-type]
    assert sla_status(now=sh(2026, 3, 20), answered_at=sh(2026, 3, 13), **kwargs) is SlaStatus.MISSED  # type: ignore[arg-type]


def test_policy_rejects_a_category_with_both_clocks() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        parse_policy({"categories": {"x": {"working_days": 1, "hours": 2}}, "nuisance_types": {}})
    assert sla_due(Category("c", "c", hours=0.5), start=sh(2026, 1, 5, 9, 0), calendar=CAL) == sh(
        2026, 1, 5, 9, 30
    )


def test_night_noise_hours_clock_only_at_night() -> None:
    night = sh(2026, 3, 10, 23, 30)
    morning = sh(2026, 3, 11, 8, 15)  # a morning report about last night's piling
    assert POLICY.clock_category("night_noise", start=night).hours == 2
    daytime = POLICY.clock_category("night_noise", start=morning)
    assert daytime.name == "urgent"
    assert sla_due(daytime, start=morning, calendar=CAL).astimezone(SH) == sh(2026, 3, 11, 23, 59, 59)
    assert POLICY.clock_category("complaint", start=night).working_days == 13
    assert POLICY.is_night(sh(2026, 3, 11, 5, 59)) and not POLICY.is_night(sh(2026, 3, 11, 6, 0))


def test_night_only_needs_a_daytime_category() -> None:
    document = {
        "categories": {"n": {"hours": 2, "night_only": True}},
        "nuisance_types": {"x": {"label": "x", "category": "n", "department": "housing"}},
    }
    with pytest.raises(ValueError, match="daytime_category"):
        parse_policy(document)
