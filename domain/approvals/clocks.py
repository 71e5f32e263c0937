"""Pure SLA clocks of approvals: deadlines in working days, pauses that move them, and SLA states.

Nothing here touches the database; time and the calendar are arguments.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from domain.calendar.rules import WorkingCalendar, local_date


class SlaState(StrEnum):
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    PAUSED = "paused"
    DONE = "done"


def due_at(
    calendar: WorkingCalendar, *, started_at: dt.datetime, limit_days: int, paused_days: int
) -> dt.datetime:
    """The deadline: the limit plus every working day the clock stood still, from the (re)start."""
    return calendar.due_at(started_at, limit_days + paused_days)


def paused_working_days(calendar: WorkingCalendar, *, paused_at: dt.datetime, resumed_at: dt.datetime) -> int:
    """Working days the clock stood still: those in (pause date, resume date], Shanghai dates."""
    return max(0, calendar.working_days_between(local_date(paused_at), local_date(resumed_at)))


def sla_state(
    calendar: WorkingCalendar,
    *,
    due: dt.datetime | None,
    now: dt.datetime,
    done: bool,
    paused: bool,
    due_soon_days: int,
) -> SlaState:
    if done:
        return SlaState.DONE
    if paused:
        return SlaState.PAUSED
    if due is None:
        return SlaState.ON_TRACK
    if now > due:
        return SlaState.OVERDUE
    remaining = calendar.working_days_between(local_date(now), local_date(due))
    return SlaState.DUE_SOON if remaining <= due_soon_days else SlaState.ON_TRACK


def elapsed_working_days(
    calendar: WorkingCalendar, *, start: dt.datetime, end: dt.datetime, paused_days: int
) -> int:
    return max(0, calendar.working_days_between(local_date(start), local_date(end)) - paused_days)
