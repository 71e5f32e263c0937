"""Reads the deployed configuration documents (``config/*.yml``) and hands them, parsed, to the domain.

The only place that opens a policy file. The bootstrap calls ``load_policies`` once per process;
tools and tests that need one document at another path (a shorter rule window, a calendar file
that is missing) use the single-document readers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from domain.alerts.sensor_rules import RuleConfig, parse_rule_config
from domain.approvals.catalogue import Catalogue as ApprovalCatalogue
from domain.approvals.catalogue import CatalogueInvalid
from domain.approvals.catalogue import parse_catalogue as parse_approvals
from domain.calendar.rules import CalendarFileInvalid, WorkingCalendar, parse_overrides
from domain.complaints.sla import parse_policy
from domain.credit.catalogue import parse_catalogue as parse_credit
from domain.emergency.plans import PlanTemplate, check_plan_templates, parse_plan_template
from domain.emergency.rules import IncidentType
from domain.exchange.rules import parse_config as parse_exchange
from domain.notifications.rules import TemplateSpec, parse_template_catalog
from domain.policies import Policies
from domain.reports.services import report_env

log = logging.getLogger(__name__)

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def read_mapping(path: Path) -> Mapping[str, Any]:
    """A document whose top level must be a mapping; an empty file is an empty mapping."""
    document = read_yaml(path) or {}
    if not isinstance(document, Mapping):
        raise ValueError(f"{path}: top level must be a mapping")
    return document


def load_rule_config(path: Path) -> RuleConfig:
    return parse_rule_config(read_mapping(path), source=str(path))


def load_calendar(path: Path) -> WorkingCalendar:
    """A missing file means no years beyond the holiday library."""
    if not path.exists():
        return WorkingCalendar()
    document = read_yaml(path) or {}
    if not isinstance(document, Mapping):
        raise CalendarFileInvalid(f"{path}: top level must be a mapping")
    calendar = parse_overrides(document)
    for year in sorted(calendar.provisional_years):
        log.warning(
            "working-day calendar %s is provisional (statutory holidays only, no adjusted weekends): "
            "enter the State Council notice in %s",
            year,
            path,
        )
    return calendar


def load_approval_catalogue(path: Path) -> ApprovalCatalogue:
    document = read_yaml(path)
    if not isinstance(document, Mapping):
        raise CatalogueInvalid(f"{path}: top level must be a mapping")
    return parse_approvals(document)


def load_template_catalog(path: Path) -> dict[str, TemplateSpec]:
    return parse_template_catalog(read_mapping(path))


def load_plan_templates(directory: Path) -> dict[IncidentType, PlanTemplate]:
    templates = [parse_plan_template(read_mapping(path)) for path in sorted(directory.glob("*.yml"))]
    return check_plan_templates(templates)


def load_policies(config_dir: Path = CONFIG_DIR) -> Policies:
    """Every document, read and checked now: a broken file stops the process at start, not a request."""
    calendar = load_calendar(config_dir / "calendar_overrides.yml")
    approvals = load_approval_catalogue(config_dir / "approvals.yml")
    credit = parse_credit(read_mapping(config_dir / "credit_rules.yml"))
    complaints_document = read_mapping(config_dir / "complaints.yml")
    alert_rules = load_rule_config(config_dir / "alert_rules.yml")
    return Policies(
        complaints=parse_policy(complaints_document),
        calendar=calendar,
        approvals=approvals,
        credit=credit,
        templates=load_template_catalog(config_dir / "wechat_templates.yml"),
        exchange=parse_exchange(read_mapping(config_dir / "feeds.yml")),
        alert_rules=alert_rules,
        emergency_plans=load_plan_templates(config_dir / "emergency_plans"),
        reports=report_env(
            calendar=calendar,
            approvals=approvals,
            credit=credit,
            alert_rules=alert_rules.raw,
            complaints=complaints_document,
        ),
    )
