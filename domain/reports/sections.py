"""Read-only indicator queries: projects, approvals and complaints of one period.

Reports are the one read-side context allowed to read other contexts' tables. Grouping happens in
SQL; only the per-record timings of the period (a few thousand rows a month) come back to Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tortoise.functions import Count

from domain.approvals.models import Application, ReviewTask
from domain.calendar.rules import CalendarNotCovered, WorkingCalendar
from domain.complaints.models import Complaint, ComplaintEvent
from domain.projects.models import Project
from domain.reports.periods import SHANGHAI, Period
from domain.reports.rules import counts, duration_summary, rate

DECIDED_TASKS = ("approved", "rejected")
DECIDED_APPLICATIONS = ("approved", "rejected")
# Merged duplicates and refused tickets never get their own answer: they stay out of SLA rates.
NO_ANSWER_STATES = ("merged", "not_accepted")
SATISFIED = ("satisfied", "basically_satisfied")


@dataclass(frozen=True, slots=True)
class StageLimit:
    name: str
    limit_days: int


async def _grouped(queryset: Any, field: str) -> dict[str, int]:
    rows = await queryset.annotate(n=Count("id")).group_by(field).values_list(field, "n")
    return counts(rows)


async def projects_section(period: Period) -> dict[str, Any]:
    """Stage, kind and town are today's snapshot (the projects table keeps no stage history)."""
    everything = Project.all()
    starts = Project.filter(actual_start__gte=period.first, actual_start__lt=period.end)
    completions = Project.filter(actual_end__gte=period.first, actual_end__lt=period.end)
    return {
        "total": await everything.count(),
        "by_stage": await _grouped(Project.all(), "stage"),
        "by_kind": await _grouped(Project.all(), "kind"),
        "by_town": await _grouped(Project.all(), "town"),
        "starts": await starts.count(),
        "completions": await completions.count(),
        "starts_by_town": await _grouped(starts, "town"),
        "completions_by_town": await _grouped(completions, "town"),
    }


def _working_days(calendar: WorkingCalendar, start: dt.datetime, end: dt.datetime, paused: int) -> int | None:
    try:
        days = calendar.working_days_between(
            start.astimezone(SHANGHAI).date(), end.astimezone(SHANGHAI).date()
        )
    except (CalendarNotCovered, ValueError):
        return None
    return max(0, days - paused)


def _limit_rows(
    groups: Mapping[str, list[tuple[int | None, bool]]], limits: Mapping[str, int]
) -> list[dict[str, Any]]:
    rows = []
    for key, items in sorted(groups.items()):
        days = [d for d, _ in items if d is not None]
        on_time = sum(1 for _, ok in items if ok)
        rows.append(
            {
                "key": key,
                "decided": len(items),
                "mean_working_days": round(sum(days) / len(days), 1) if days else None,
                "max_working_days": max(days) if days else None,
                "legal_limit_days": limits.get(key),
                "on_time": on_time,
                "on_time_rate": rate(on_time, len(items)),
            }
        )
    return rows


async def approvals_section(
    period: Period, *, calendar: WorkingCalendar, stage_limits: Mapping[str, StageLimit]
) -> dict[str, Any]:
    """Working days (clock pauses deducted) per department and per stage, against the legal limits."""
    window = {"decided_at__gte": period.start_utc, "decided_at__lt": period.end_utc}
    tasks = await ReviewTask.filter(status__in=DECIDED_TASKS, **window).values_list(
        "department", "started_at", "decided_at", "due_at", "paused_days", "limit_days"
    )
    by_department: dict[str, list[tuple[int | None, bool]]] = {}
    department_limits: dict[str, int] = {}
    for department, started, decided, due, paused, limit in tasks:
        by_department.setdefault(department, []).append(
            (_working_days(calendar, started, decided, paused), decided <= due)
        )
        department_limits[department] = max(limit, department_limits.get(department, 0))
    applications = await Application.filter(status__in=DECIDED_APPLICATIONS, **window).values_list(
        "stage", "first_submitted_at", "decided_at", "due_at", "total_paused_days"
    )
    by_stage: dict[str, list[tuple[int | None, bool]]] = {}
    for stage, submitted, decided, due, paused in applications:
        on_time = due is not None and decided <= due
        days = _working_days(calendar, submitted, decided, paused) if submitted else None
        by_stage.setdefault(stage, []).append((days, on_time))
    stage_rows = _limit_rows(by_stage, {k: v.limit_days for k, v in stage_limits.items()})
    for row in stage_rows:
        row["name"] = stage_limits[row["key"]].name if row["key"] in stage_limits else row["key"]
    on_time = sum(row["on_time"] for row in stage_rows)
    return {
        "decided": len(applications),
        "on_time": on_time,
        "on_time_rate": rate(on_time, len(applications)),
        "tasks_decided": len(tasks),
        "by_department": _limit_rows(by_department, department_limits),
        "by_stage": stage_rows,
    }


def _answer_stats(rows: list[tuple[Any, ...]], *, period_end: dt.datetime) -> dict[str, Any]:
    """Response time, on-time, and satisfaction figures over the period's answerable tickets."""
    response_hours: list[float] = []
    answered = on_time = sla_due = rated = satisfied = 0
    for _, state, created_at, answered_at, due_at, rating in rows:
        if state in NO_ANSWER_STATES:
            continue
        if answered_at is not None:
            answered += 1
            sla_due += 1
            on_time += answered_at <= due_at
            response_hours.append((answered_at - created_at).total_seconds() / 3600)
        elif due_at < period_end:
            sla_due += 1  # overdue and still unanswered: counts against the on-time rate
        if rating:
            rated += 1
            satisfied += rating in SATISFIED
    return {
        "answered": answered,
        "response_hours": duration_summary(response_hours),
        "on_time": on_time,
        "sla_due": sla_due,
        "on_time_rate": rate(on_time, sla_due),
        "rated": rated,
        "satisfied": satisfied,
        "satisfaction_rate": rate(satisfied, rated),
    }


async def _reopened_count(ids: list[int]) -> int:
    """How many of these tickets were reopened at least once."""
    reopened = 0
    for start in range(0, len(ids), 5000):  # SQLite caps bound parameters per statement
        chunk = ids[start : start + 5000]
        reopened += len(
            set(
                await ComplaintEvent.filter(action="reopen", complaint_id__in=chunk).values_list(
                    "complaint_id", flat=True
                )
            )
        )
    return reopened


async def complaints_section(period: Period) -> dict[str, Any]:
    """Tickets created in the period; their answers may come later (up to the report's build time)."""
    created = Complaint.filter(created_at__gte=period.start_utc, created_at__lt=period.end_utc)
    rows = await created.values_list("id", "state", "created_at", "answered_at", "due_at", "rating")
    stats = _answer_stats(rows, period_end=period.end_utc)
    reopened = await _reopened_count([row[0] for row in rows])
    return {
        "total": len(rows),
        "by_type": await _grouped(created, "nuisance_type"),
        "by_town": await _grouped(created, "town"),
        "by_state": await _grouped(created, "state"),
        **stats,
        "reopened": reopened,
        "reopen_rate": rate(reopened, stats["answered"]),
    }
