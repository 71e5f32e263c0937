"""Night-work permit windows: nights that cross midnight, date ranges, Asia/Shanghai edges."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from domain.errors import ValidationFailed
from domain.permits.rules import PermitWindow, parse_hhmm

SH = ZoneInfo("Asia/Shanghai")
WINDOW = PermitWindow(dt.date(2026, 3, 5), dt.date(2026, 3, 6), dt.time(22, 0), dt.time(6, 0))


@pytest.mark.parametrize(
    ("local", "covered"),
    [
        (dt.datetime(2026, 3, 5, 22, 0), True),
        (dt.datetime(2026, 3, 6, 2, 0), True),  # the night of the 5th
        (dt.datetime(2026, 3, 7, 5, 59), True),  # the night of the 6th, its last minute
        (dt.datetime(2026, 3, 7, 6, 0), False),
        (dt.datetime(2026, 3, 5, 2, 0), False),  # the night of the 4th: not permitted
        (dt.datetime(2026, 3, 7, 22, 30), False),
        (dt.datetime(2026, 3, 6, 12, 0), False),  # daytime is not a night permit's business
    ],
)
def test_night_window(local: dt.datetime, covered: bool) -> None:
    assert WINDOW.covers(local.replace(tzinfo=SH)) is covered
    assert WINDOW.covers(local.replace(tzinfo=SH).astimezone(dt.UTC)) is covered


def test_same_day_window_and_validation() -> None:
    evening = PermitWindow(dt.date(2026, 3, 5), dt.date(2026, 3, 5), dt.time(18, 0), dt.time(23, 0))
    assert evening.covers(dt.datetime(2026, 3, 5, 22, 59, tzinfo=SH))
    assert not evening.covers(dt.datetime(2026, 3, 5, 23, 0, tzinfo=SH))
    with pytest.raises(ValidationFailed):
        PermitWindow(dt.date(2026, 3, 6), dt.date(2026, 3, 5), dt.time(22, 0), dt.time(6, 0))
    with pytest.raises(ValidationFailed):
        parse_hhmm("25:00")
