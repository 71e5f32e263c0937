"""Build a report for a period: every section, the previous period's headlines, and the comparison."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain import policies
from domain.approvals.catalogue import Catalogue as ApprovalCatalogue
from domain.calendar.rules import WorkingCalendar
from domain.credit.catalogue import Catalogue
from domain.emergency.rules import INCIDENT_TYPE_LABELS
from domain.reports import safety, sections
from domain.reports.periods import PERIOD_KIND_LABELS, Period
from domain.reports.rules import compare

log = logging.getLogger(__name__)
DEFAULT_PM10_HOUR_LIMIT = 150.0


@dataclass(frozen=True, slots=True)
class ReportEnv:
    """What the indicators need from configuration, loaded once."""

    calendar: WorkingCalendar
    stage_limits: dict[str, sections.StageLimit]
    credit: Catalogue
    pm10_hour_limit: float
    nuisance_labels: dict[str, str]


def report_env(
    *,
    calendar: WorkingCalendar,
    approvals: ApprovalCatalogue,
    credit: Catalogue,
    alert_rules: Mapping[str, Any],
    complaints: Mapping[str, Any],
) -> ReportEnv:
    """What the indicators take from the deployed documents (built once, by the bootstrap)."""
    limits = {s.key: sections.StageLimit(s.name, s.time_limit_days) for s in approvals.stages}
    pm10 = (
        alert_rules.get("dust", {})
        .get("pm10_1h", {})
        .get("bands", {})
        .get("warning", DEFAULT_PM10_HOUR_LIMIT)
    )
    nuisances = {
        key: str(spec.get("label", key))
        for key, spec in (complaints.get("nuisance_types") or {}).items()
        if isinstance(spec, dict)
    }
    return ReportEnv(calendar, limits, credit, float(pm10), nuisances)


def deployed_report_env() -> ReportEnv:
    return policies.current().reports


async def indicators(period: Period, env: ReportEnv) -> dict[str, Any]:
    return {
        "projects": await sections.projects_section(period),
        "approvals": await sections.approvals_section(
            period, calendar=env.calendar, stage_limits=env.stage_limits
        ),
        "complaints": await sections.complaints_section(period),
        "alarms": await safety.alarms_section(period),
        "credit": await safety.credit_section(period, catalogue=env.credit),
        "emergencies": await safety.emergencies_section(period),
        "transparency": await safety.transparency_section(period, pm10_hour_limit=env.pm10_hour_limit),
    }


def period_json(period: Period) -> dict[str, str]:
    return {
        "key": period.key,
        "kind": period.kind.value,
        "label": period.label,
        "title": f"温岭市建设工程{PERIOD_KIND_LABELS[period.kind]}（{period.label}）",
        "first_day": period.first.isoformat(),
        "last_day": period.last.isoformat(),
    }


async def build_report(period: Period, env: ReportEnv, *, now: dt.datetime) -> dict[str, Any]:
    """The whole report. Answers that arrive after the period still count (as of ``now``)."""
    current = await indicators(period, env)
    previous = await indicators(period.previous(), env)
    log.info("report %s built", period.key)
    return {
        "period": period_json(period),
        "previous_period": period_json(period.previous()),
        "generated_at": now.isoformat(),
        "sections": current,
        "comparison": compare(current, previous),
        "labels": {
            "nuisance_type": env.nuisance_labels,
            "incident_type": {kind.value: label for kind, label in INCIDENT_TYPE_LABELS.items()},
        },
    }


async def public_transparency(period: Period, env: ReportEnv) -> dict[str, Any]:
    """The public figures only (aggregates per town, no personal data)."""
    section = await safety.transparency_section(period, pm10_hour_limit=env.pm10_hour_limit)
    return {"period": period_json(period), **section}
