"""Response plans: templates per incident type (``config/emergency_plans/*.yml``) filled with a concrete
incident's site, contacts, nearest resources and reporting deadlines. Pure apart from reading YAML."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from domain import policies
from domain.emergency.rules import (
    GRADE_LABELS,
    INCIDENT_TYPE_LABELS,
    REPORT_LEVEL_LABELS,
    IncidentGrade,
    IncidentType,
    ReportingDeadline,
)
from domain.errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class PlanStep:
    role: str
    action: str


@dataclass(frozen=True, slots=True)
class PlanTemplate:
    incident_type: IncidentType
    tier: str
    title: str
    required_capabilities: tuple[str, ...]
    linked_departments: tuple[str, ...]
    steps: tuple[PlanStep, ...]
    information_to_collect: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ResourceChoice:
    code: str
    name: str
    kind: str
    capability: str
    distance_m: float
    contact_name: str
    contact_phone: str


@dataclass(frozen=True, slots=True)
class ConcretePlan:
    incident_code: str
    title: str
    incident_label: str
    grade_label: str
    site: dict[str, str]
    steps: tuple[PlanStep, ...]
    resources: tuple[ResourceChoice, ...]
    missing_capabilities: tuple[str, ...]
    linked_departments: tuple[str, ...]
    deadlines: tuple[tuple[str, str], ...]
    information_to_collect: tuple[str, ...]
    generated_at: str = field(default="")


def parse_plan_template(raw: Mapping[str, Any]) -> PlanTemplate:
    try:
        return PlanTemplate(
            incident_type=IncidentType(raw["incident_type"]),
            tier=str(raw["tier"]),
            title=str(raw["title"]),
            required_capabilities=tuple(raw["required_capabilities"]),
            linked_departments=tuple(raw.get("linked_departments", ())),
            steps=tuple(PlanStep(str(step["role"]), str(step["action"])) for step in raw["steps"]),
            information_to_collect=tuple(raw.get("information_to_collect", ())),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValidationFailed(f"bad emergency plan template: {error}", code="bad_plan_template") from error


def check_plan_templates(parsed: Iterable[PlanTemplate]) -> dict[IncidentType, PlanTemplate]:
    """One template per incident type, every type covered (``config/emergency_plans/*.yml``)."""
    templates = {template.incident_type: template for template in parsed}
    missing = set(IncidentType) - set(templates)
    if missing:
        raise ValidationFailed(f"no plan template for {sorted(missing)}", code="bad_plan_template")
    return templates


def plan_templates() -> Mapping[IncidentType, PlanTemplate]:
    """The deployed ``config/emergency_plans/*.yml``."""
    return policies.current().emergency_plans


def build_plan(
    template: PlanTemplate,
    *,
    incident_code: str,
    grade: IncidentGrade,
    site: dict[str, str],
    resources: list[ResourceChoice],
    deadlines: list[ReportingDeadline],
    now: dt.datetime,
) -> ConcretePlan:
    covered = {choice.capability for choice in resources}
    return ConcretePlan(
        incident_code=incident_code,
        title=template.title,
        incident_label=INCIDENT_TYPE_LABELS[template.incident_type],
        grade_label=GRADE_LABELS[grade],
        site=site,
        steps=template.steps,
        resources=tuple(resources),
        missing_capabilities=tuple(c for c in template.required_capabilities if c not in covered),
        linked_departments=template.linked_departments,
        deadlines=tuple((REPORT_LEVEL_LABELS[d.level], d.due_at.isoformat()) for d in deadlines),
        information_to_collect=template.information_to_collect,
        generated_at=now.isoformat(),
    )


def choose_resources(
    candidates: list[ResourceChoice], *, required: tuple[str, ...], per_capability: int
) -> list[ResourceChoice]:
    """For each required capability, the nearest ``per_capability`` resources having it.

    ``candidates`` carry every capability of a resource in turn (one entry per capability), nearest
    first. A resource picked for one capability is not listed twice.
    """
    chosen: list[ResourceChoice] = []
    seen_codes: set[str] = set()
    for capability in required:
        having = [c for c in candidates if c.capability == capability]
        for choice in sorted(having, key=lambda c: (c.distance_m, c.code))[:per_capability]:
            if choice.code not in seen_codes:
                chosen.append(choice)
                seen_codes.add(choice.code)
    return chosen
