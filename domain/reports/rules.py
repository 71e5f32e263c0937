"""Pure arithmetic of the indicators: rates, durations, comparisons. No I/O, time passed in."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# Headline indicators compared with the previous period: (section, key, label, higher_is_better).
HEADLINES: tuple[tuple[str, str, str, bool], ...] = (
    ("projects", "starts", "开工项目数", True),
    ("projects", "completions", "竣工项目数", True),
    ("approvals", "decided", "办结审批事项数", True),
    ("approvals", "on_time_rate", "审批按时办结率", True),
    ("complaints", "total", "投诉总数", False),
    ("complaints", "on_time_rate", "投诉按时答复率", True),
    ("complaints", "satisfaction_rate", "投诉满意率", True),
    ("complaints", "reopen_rate", "投诉重办率", False),
    ("alarms", "total", "告警总数", False),
    ("alarms", "median_ack_minutes", "告警确认时长中位数（分钟）", False),
    ("emergencies", "total", "安全事故数", False),
    ("transparency", "dust_compliance_rate", "扬尘达标率", True),
)


def rate(numerator: int, denominator: int) -> float | None:
    """A share rounded to 4 decimals, or None when there is nothing to divide by (not 0%)."""
    if denominator <= 0:
        return None
    return round(numerator / denominator, 4)


def minutes_between(start: dt.datetime, end: dt.datetime) -> float:
    return (end - start).total_seconds() / 60


def duration_summary(values: Sequence[float]) -> dict[str, float | int | None]:
    """Count, mean, median and 90th percentile, rounded to 0.1 (minutes or hours, as given)."""
    if not values:
        return {"n": 0, "mean": None, "median": None, "p90": None}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return {
        "n": len(ordered),
        "mean": round(statistics.fmean(ordered), 1),
        "median": round(statistics.median(ordered), 1),
        "p90": round(p90, 1),
    }


def counts(pairs: Iterable[tuple[Any, int]]) -> dict[str, int]:
    """Group-by rows to a dict sorted by count (desc) then key; empty keys become 未填."""
    merged: dict[str, int] = {}
    for key, number in pairs:
        name = str(key) if key not in (None, "") else "未填"
        merged[name] = merged.get(name, 0) + int(number)
    return dict(sorted(merged.items(), key=lambda item: (-item[1], item[0])))


def compare(
    current: Mapping[str, Mapping[str, Any]], previous: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Headline indicators side by side with the previous period, with the change and its direction."""
    rows = []
    for section, key, label, higher_is_better in HEADLINES:
        now = current.get(section, {}).get(key)
        before = previous.get(section, {}).get(key)
        delta = None if now is None or before is None else round(now - before, 4)
        change = None if delta is None or not before else round(delta / before, 4)
        trend = "flat" if not delta else ("better" if (delta > 0) == higher_is_better else "worse")
        rows.append(
            {
                "section": section,
                "key": key,
                "label": label,
                "current": now,
                "previous": before,
                "delta": delta,
                "change": change,
                "trend": trend if delta is not None else None,
            }
        )
    return rows
