"""The Gantt-style milestone chart: planned spans, reached days, lateness and today's line."""

from __future__ import annotations

import datetime as dt

from console.gantt import gantt

TODAY = dt.date(2026, 7, 1)


def _project(**extra: object) -> dict[str, object]:
    return {
        "planned_start": "2026-01-01",
        "planned_end": "2026-12-31",
        "actual_start": None,
        "milestones": [
            {"name": "施工许可取得", "planned_date": "2026-01-01", "actual_date": "2026-01-10"},
            {"name": "主体结构封顶", "planned_date": "2026-06-30", "actual_date": None},
            {"name": "竣工验收", "planned_date": "2026-12-31", "actual_date": None},
        ],
        **extra,
    }


def test_spans_run_from_the_previous_milestone_and_states_follow_today() -> None:
    chart = gantt(_project(), today=TODAY)
    assert chart is not None and (chart.start, chart.end) == ("2026-01-01", "2026-12-31")
    permit, roof, done = chart.rows
    assert (permit.state, roof.state, done.state) == ("done", "late", "open")
    assert permit.left_pct == 0 and permit.width_pct == 0.8  # a same-day step stays visible
    assert roof.left_pct == 0 and 49 < roof.width_pct < 50
    assert 49 < done.left_pct < 50 and done.left_pct + done.width_pct == 100
    assert permit.actual_pct is not None and 2 < permit.actual_pct < 3
    assert chart.today_pct is not None and 49 < chart.today_pct < 50


def test_no_milestones_no_chart_and_today_outside_is_not_drawn() -> None:
    assert gantt(_project(milestones=[]), today=TODAY) is None
    chart = gantt(_project(), today=dt.date(2027, 3, 1))
    assert chart is not None and chart.today_pct is None
    assert all(row.state != "open" for row in chart.rows)  # everything planned is now past
