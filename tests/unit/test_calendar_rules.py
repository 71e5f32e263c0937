"""The shared working-day calendar: holidays, adjusted weekends, coverage, and deadline arithmetic."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.config_files import load_calendar
from domain.calendar.rules import (
    SHANGHAI,
    CalendarFileInvalid,
    CalendarNotCovered,
    WorkingCalendar,
    parse_overrides,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
D = dt.date


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


@pytest.mark.parametrize("day", [D(2026, 2, 15) + dt.timedelta(days=i) for i in range(9)])
def test_spring_festival_2026_is_nine_rest_days(calendar: WorkingCalendar, day: dt.date) -> None:
    assert not calendar.is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 9, 20), D(2026, 10, 10)],
)
def test_adjusted_working_weekends_2026(calendar: WorkingCalendar, day: dt.date) -> None:
    assert day.weekday() >= 5
    assert calendar.is_working_day(day)


def test_plain_weekdays_and_weekends(calendar: WorkingCalendar) -> None:
    assert calendar.is_working_day(D(2026, 3, 2))  # Monday
    assert not calendar.is_working_day(D(2026, 3, 7))  # Saturday


def test_add_working_days_skips_spring_festival(calendar: WorkingCalendar) -> None:
    # Fri 2-13 + 1 -> Sat 2-14 (adjusted working day); + 2 -> Tue 2-24 after the nine-day break.
    assert calendar.add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert calendar.add_working_days(D(2026, 2, 13), 2) == D(2026, 2, 24)
    assert calendar.add_working_days(D(2026, 2, 24), -2) == D(2026, 2, 13)
    assert calendar.add_working_days(D(2026, 2, 15), 0) == D(2026, 2, 15)


def test_working_days_between_is_half_open(calendar: WorkingCalendar) -> None:
    assert calendar.working_days_between(D(2026, 2, 13), D(2026, 2, 24)) == 2
    assert calendar.working_days_between(D(2026, 2, 24), D(2026, 2, 13)) == -2
    assert calendar.working_days_between(D(2026, 3, 2), D(2026, 3, 2)) == 0
    start = D(2026, 2, 10)
    for n in range(0, 30):
        assert calendar.working_days_between(start, calendar.add_working_days(start, n)) == n


def test_due_at_is_end_of_day_shanghai_in_utc(calendar: WorkingCalendar) -> None:
    # Submitted Thu 2026-02-12 10:00 Shanghai; 5 working days: 13, 14(Sat, adjusted), 24, 25, 26.
    start = dt.datetime(2026, 2, 12, 10, 0, tzinfo=SHANGHAI)
    due = calendar.due_at(start, 5)
    assert due.tzinfo is dt.UTC
    assert due == dt.datetime(2026, 2, 26, 15, 59, 59, tzinfo=dt.UTC)
    assert due.astimezone(SHANGHAI).date() == D(2026, 2, 26)


def test_due_at_uses_the_shanghai_date_not_the_utc_date(calendar: WorkingCalendar) -> None:
    # 2026-03-05 17:00 UTC is already Friday 03-06 in Shanghai: +1 working day is Monday 03-09.
    start = dt.datetime(2026, 3, 5, 17, 0, tzinfo=dt.UTC)
    assert calendar.due_at(start, 1).astimezone(SHANGHAI).date() == D(2026, 3, 9)


def test_due_at_refuses_naive_datetimes(calendar: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="aware"):
        calendar.due_at(dt.datetime(2026, 3, 5, 9, 0), 1)


def test_uncovered_year_raises_instead_of_guessing(calendar: WorkingCalendar) -> None:
    with pytest.raises(CalendarNotCovered):
        calendar.is_working_day(D(2027, 1, 4))
    with pytest.raises(CalendarNotCovered):
        calendar.add_working_days(D(2026, 12, 30), 5)
    with pytest.raises(CalendarNotCovered):
        calendar.is_working_day(D(1999, 1, 4))


def test_overrides_cover_a_later_year() -> None:
    calendar = parse_overrides(
        {
            "years": [
                {
                    "year": 2027,
                    "source": "test fixture, not the official notice",
                    "holidays": ["2027-01-01"],
                    "working_weekends": ["2027-01-02"],
                }
            ]
        }
    )
    assert not calendar.is_working_day(D(2027, 1, 1))  # Friday made a holiday
    assert calendar.is_working_day(D(2027, 1, 2))  # Saturday made a working day
    assert not calendar.is_working_day(D(2027, 1, 3))  # plain Sunday
    assert calendar.is_working_day(D(2027, 1, 4))  # plain Monday
    # Thu 2026-12-31 + 1 -> Sat 2027-01-02 across the library/override boundary.
    assert calendar.add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 2)
    with pytest.raises(CalendarNotCovered):
        calendar.is_working_day(D(2028, 1, 4))


def test_overrides_win_inside_library_years() -> None:
    calendar = WorkingCalendar({D(2026, 3, 2): False})
    assert not calendar.is_working_day(D(2026, 3, 2))
    assert calendar.is_working_day(D(2026, 3, 3))


@pytest.mark.parametrize(
    "document",
    [
        {"years": "2027"},
        {"years": [{"year": "2027", "source": "x"}]},
        {"years": [{"year": 2027}]},
        {"years": [{"year": 2027, "source": "x", "holidays": ["2028-01-01"]}]},
        {"years": [{"year": 2027, "source": "x", "holidays": ["not-a-date"]}]},
        {
            "years": [
                {
                    "year": 2027,
                    "source": "x",
                    "holidays": ["2027-01-02"],
                    "working_weekends": ["2027-01-02"],
                }
            ]
        },
    ],
)
def test_malformed_override_documents_are_rejected(document: dict[str, object]) -> None:
    with pytest.raises(CalendarFileInvalid):
        parse_overrides(document)


def test_repository_overrides_file_loads_and_is_honest() -> None:
    calendar = load_calendar(REPO_ROOT / "config" / "calendar_overrides.yml")
    for year in calendar.override_years:
        assert year > 2026
    # 2027 is provisional: statutory holidays only, flagged, and never silently plain Mon-Fri.
    assert calendar.provisional_years == {2027}
    assert calendar.is_provisional(D(2027, 3, 1))
    assert not calendar.is_working_day(D(2027, 2, 8))  # 初三, a Monday
    assert not calendar.is_working_day(D(2027, 6, 9))  # 端午, a Wednesday
    assert calendar.is_working_day(D(2027, 6, 10))
    assert not calendar.is_provisional(D(2026, 3, 2))
    with pytest.raises(CalendarNotCovered):
        calendar.is_working_day(D(2028, 1, 4))


def test_missing_overrides_file_means_library_only(tmp_path: Path) -> None:
    calendar = load_calendar(tmp_path / "absent.yml")
    assert calendar.is_working_day(D(2026, 3, 2))
    with pytest.raises(CalendarNotCovered):
        calendar.is_working_day(D(2027, 3, 1))


@given(
    start=st.dates(min_value=D(2004, 1, 1), max_value=D(2026, 10, 31)),
    days=st.integers(min_value=0, max_value=40),
)
def test_adding_and_counting_working_days_agree(start: dt.date, days: int) -> None:
    calendar = WorkingCalendar()
    end = calendar.add_working_days(start, days)
    assert calendar.working_days_between(start, end) == days
    assert end == start or calendar.is_working_day(end)
    assert calendar.add_working_days(end, -days) <= start


@given(
    moment=st.datetimes(min_value=dt.datetime(2004, 1, 1), max_value=dt.datetime(2026, 11, 30)),
    days=st.integers(min_value=1, max_value=20),
)
def test_due_at_is_always_the_end_of_a_working_day(moment: dt.datetime, days: int) -> None:
    calendar = WorkingCalendar()
    due = calendar.due_at(moment.replace(tzinfo=dt.UTC), days)
    local = due.astimezone(SHANGHAI)
    assert (local.hour, local.minute, local.second) == (23, 59, 59)
    assert calendar.is_working_day(local.date())
