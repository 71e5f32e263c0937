"""Build a report for a period: every section, the previous period's headlines, and the comparison."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from domain.approvals.catalogue import load_catalogue as load_approvals
from domain.calendar.rules import WorkingCalendar, load_calendar
from domain.credit.catalogue import Catalogue
from domain.credit.services import load_catalogue as load_credit
from domain.emergency.rules import INCIDENT_TYPE_LABELS
from domain.reports import safety, sections
from domain.reports.periods import PERIOD_KIND_LABELS, Period
from domain.reports.rules import compare

log = logging.getLogger(__name__)
CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
DEFAULT_PM10_HOUR_LIMIT = 150.0


@dataclass(frozen=True, slots=True)
class ReportEnv:
    """What the indicators need from configuration, loaded once."""

    calendar: WorkingCalendar
    stage_limits: dict[str, sections.StageLimit]
    credit: Catalogue
    pm10_hour_limit: float
    nuisance_labels: dict[str, str]


def _read_env(
    config_dir: Path,
) -> tuple[WorkingCalendar, dict[str, sections.StageLimit], float, dict[str, str]]:
    calendar = load_calendar(config_dir / "calendar_overrides.yml")
    approvals = load_approvals(config_dir / "approvals.yml")
    limits = {s.key: sections.StageLimit(s.name, s.time_limit_days) for s in approvals.stages}
    rules = yaml.safe_load((config_dir / "alert_rules.yml").read_text(encoding="utf-8")) or {}
    pm10 = rules.get("dust", {}).get("pm10_1h", {}).get("bands", {}).get("warning", DEFAULT_PM10_HOUR_LIMIT)
    complaints = yaml.safe_load((config_dir / "complaints.yml").read_text(encoding="utf-8")) or {}
    nuisances = {
        key: str(spec.get("label", key))
        for key, spec in (complaints.get("nuisance_types") or {}).items()
        if isinstance(spec, dict)
    }
    return calendar, limits, float(pm10), nuisances


async def load_env(config_dir: Path = CONFIG_DIR) -> ReportEnv:
    calendar, limits, pm10, nuisances = await asyncio.to_thread(_read_env, config_dir)
    return ReportEnv(calendar, limits, await load_credit(), pm10, nuisances)


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
