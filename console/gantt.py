"""A project's milestones as a Gantt-style chart: each milestone's planned span between the previous
milestone (or the planned start) and its own planned date, where it really ended, and today's line.
Positions are percentages of the project's span, so the template draws it with plain CSS."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class GanttRow:
    name: str
    planned: str  # the planned day, ISO, or ""
    actual: str  # the day it was reached, ISO, or ""
    left_pct: float  # where its planned span starts
    width_pct: float
    actual_pct: float | None  # where it was reached; None if not yet
    state: str  # done, late (due and not reached), open


@dataclass(frozen=True, slots=True)
class Gantt:
    start: str
    end: str
    today_pct: float | None  # None when today is outside the span
    rows: list[GanttRow]


def _day(value: object) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) and value else None


def gantt(project: dict[str, Any], *, today: dt.date) -> Gantt | None:
    """From ``project_details``; None when there are no dated milestones to place."""
    milestones = project.get("milestones") or []
    dates = [d for m in milestones for d in (_day(m["planned_date"]), _day(m["actual_date"])) if d]
    start = (
        _day(project.get("actual_start")) or _day(project.get("planned_start")) or min(dates, default=None)
    )
    if start is None or not dates:
        return None
    end = max([*dates, _day(project.get("planned_end")) or start, start + dt.timedelta(days=1)])
    span = (end - start).days

    def pct(day: dt.date) -> float:
        return round(100 * min(max((day - start).days, 0), span) / span, 2)

    rows, previous = [], start
    for milestone in milestones:
        planned, actual = _day(milestone["planned_date"]), _day(milestone["actual_date"])
        left = pct(previous)
        right = pct(planned) if planned else left
        state = "done" if actual else ("late" if planned and planned < today else "open")
        rows.append(
            GanttRow(
                name=str(milestone["name"]),
                planned=planned.isoformat() if planned else "",
                actual=actual.isoformat() if actual else "",
                left_pct=left,
                width_pct=max(round(right - left, 2), 0.8),  # a same-day step stays visible
                actual_pct=pct(actual) if actual else None,
                state=state,
            )
        )
        previous = planned or previous
    today_pct = pct(today) if start <= today <= end else None
    return Gantt(start.isoformat(), end.isoformat(), today_pct, rows)
