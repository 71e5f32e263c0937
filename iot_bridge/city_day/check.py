"""The checker: compares what a run stored (alarms, manager notices, escalations) with the scenario's
injected list. ``judge`` is pure; ``load_outcome`` reads the rows from the database."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from domain.alerts.models import Alarm
from domain.notifications.models import Escalation, OutboxMessage
from iot_bridge.city_day.scenario import Scenario

MANAGER_CATEGORIES = frozenset({"alarm", "alarm_digest"})
SETTLED = frozenset({"delivered", "fallback"})
RAISE_SLACK_S = 30 * 60.0  # an expected alarm is raised between its event's start and end + this


@dataclass(frozen=True, slots=True)
class AlarmRow:
    id: int
    source: str
    alarm_type: str
    severity: str
    site_code: str
    raised_at: float
    message: str
    escalated: bool


@dataclass(frozen=True, slots=True)
class EscalationRow:
    key: str
    state: str
    admin_alerted: bool  # a fallback must have alerted the admins


@dataclass(frozen=True, slots=True)
class Outcome:
    alarms: tuple[AlarmRow, ...]
    notices: tuple[str, ...]  # the recipient of each manager notice (alarm or digest)
    escalations: tuple[EscalationRow, ...]


@dataclass
class Report:
    expected: int = 0
    raised_once: int = 0
    problems: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def judge(scenario: Scenario, outcome: Outcome) -> Report:
    """Every expected alarm raised exactly once at its severity and in its time; no other alarm; none
    about a device that never reported; every escalation settled (delivered, or admins alerted)."""
    report = Report()
    expected = scenario.expected()
    report.expected = len(expected)
    by_key: dict[tuple[str, str], list[AlarmRow]] = {}
    for alarm in outcome.alarms:
        by_key.setdefault((alarm.source, alarm.alarm_type), []).append(alarm)
    for key, event in sorted(expected.items()):
        rows = by_key.get(key, [])
        want = next(e for e in event.expects if (e.source, e.alarm_type) == key)
        if len(rows) != 1:
            report.problems.append(f"{event.kind} {key}: {len(rows)} alarms, expected 1")
            continue
        row = rows[0]
        if row.severity != want.severity:
            report.problems.append(f"{event.kind} {key}: severity {row.severity}, expected {want.severity}")
        elif not event.start <= row.raised_at <= event.end + RAISE_SLACK_S:
            report.problems.append(f"{event.kind} {key}: raised at {_iso(row.raised_at)}, outside the event")
        else:
            report.raised_once += 1
    for key, rows in sorted(by_key.items()):
        if key not in expected:
            report.problems.append(
                f"unexplained: {len(rows)} x {key[1]} from {key[0]} ({rows[0].message[:60]})"
            )
    for alarm in outcome.alarms:
        silent = [code for code in scenario.uncommissioned if code == alarm.source or code in alarm.message]
        if silent:
            report.problems.append(f"alarm {alarm.id} names never-commissioned {silent[0]}")
    for escalation in outcome.escalations:
        if escalation.state not in SETTLED or (
            escalation.state == "fallback" and not escalation.admin_alerted
        ):
            report.problems.append(f"escalation {escalation.key} is {escalation.state}")
    report.figures = figures(scenario, outcome)
    return report


def figures(scenario: Scenario, outcome: Outcome) -> dict[str, Any]:
    days = max(scenario.days, 1e-9)
    per_site = Counter(alarm.site_code for alarm in outcome.alarms)
    per_manager = Counter(outcome.notices)
    managers = len(scenario.managers())
    violations = [e for e in scenario.injected if e.violation]
    return {
        "sites": len(scenario.sites),
        "devices": len(scenario.devices),
        "uncommissioned": len(scenario.uncommissioned),
        "simulated_hours": round(days * 24, 2),
        "injected_events": len(scenario.injected),
        "injected_violations": len(violations),
        "injected_by_kind": dict(Counter(str(e.kind) for e in scenario.injected)),
        "expected_alarms": sum(len(e.expects) for e in scenario.injected),
        "alarms": len(outcome.alarms),
        "alarms_per_site_day": round(len(outcome.alarms) / len(scenario.sites) / days, 3),
        "alarms_max_site_day": round(max(per_site.values(), default=0) / days, 2),
        "manager_notices": len(outcome.notices),
        "notices_per_manager_day": round(len(outcome.notices) / max(1, managers) / days, 3),
        "notices_max_manager_day": round(max(per_manager.values(), default=0) / days, 2),
        "escalations": len(outcome.escalations),
        "escalations_by_state": dict(Counter(e.state for e in outcome.escalations)),
    }


def _iso(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).isoformat()


async def load_outcome() -> Outcome:
    rows = await Alarm.all().order_by("id")
    alarms = tuple(
        AlarmRow(
            row.id,
            row.source,
            row.alarm_type,
            row.severity.value,
            row.site_code,
            row.raised_at.timestamp(),
            row.message,
            row.escalated_at is not None,
        )
        for row in rows
    )
    notices = await OutboxMessage.filter(category__in=sorted(MANAGER_CATEGORIES)).values_list(
        "recipient_openid", flat=True
    )
    alerted = {
        str(key)
        for key in await OutboxMessage.filter(category="admin_alert").values_list(
            "idempotency_key", flat=True
        )
    }
    escalations = tuple(
        EscalationRow(
            e.key,
            e.state.value,
            any(key.startswith(f"admin:escalation-undelivered:{e.id}:") for key in alerted),
        )
        for e in await Escalation.all().order_by("id")
    )
    return Outcome(alarms, tuple(str(n) for n in notices), escalations)
