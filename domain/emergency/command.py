"""Incident command as the staff doors share it (the REST API and the console): who may command an
incident, the one-click dispatch that also alerts the plan's linked departments, the board with open
incidents first, the reporting clocks as a screen shows them, and the map points of a plan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from domain.accounts.rules import Department, Principal, Role
from domain.accounts.services import openids_of_departments
from domain.emergency import plans, services
from domain.emergency.models import EmergencyResource, Incident
from domain.emergency.queries import get_incident, summary_of
from domain.emergency.rules import IncidentStatus
from domain.errors import Forbidden

# Departments that command an incident; every staff member may read the board.
COMMAND_DEPARTMENTS = frozenset({Department.EMERGENCY.value, Department.HOUSING.value})
# A plan's linked department (``config/emergency_plans/*.yml``) and the staff department alerted.
LINKED_DEPARTMENTS = {
    "fire": Department.FIRE.value,
    "medical": Department.HEALTH.value,
    "traffic": Department.POLICE.value,
}
OPEN_STATUSES = (IncidentStatus.REPORTED, IncidentStatus.DISPATCHED, IncidentStatus.ON_SCENE)


def may_command(principal: Principal) -> bool:
    return principal.role is Role.ADMIN or principal.department in COMMAND_DEPARTMENTS


def commander(principal: Principal) -> str:
    """The actor recorded for a commanding action; refused outside the commanding departments."""
    if not may_command(principal):
        raise Forbidden(
            "only the emergency and housing departments command incidents", code="forbidden_department"
        )
    return f"staff:{principal.subject}"


async def dispatch_with_plan(
    code: str, *, targets: Sequence[str], actor: str, now: dt.datetime
) -> list[dict[str, Any]]:
    """One click: the chosen resources and the duty staff of the plan's linked departments."""
    incident = await get_incident(code)
    template = plans.plan_templates()[incident.incident_type]
    names = [LINKED_DEPARTMENTS[name] for name in template.linked_departments if name in LINKED_DEPARTMENTS]
    departments = await openids_of_departments(names)
    return await services.dispatch(code, targets=targets, departments=departments, actor=actor, now=now)


def clocks_at(summary: dict[str, Any], *, now: dt.datetime) -> dict[str, Any]:
    """Elapsed time, the next unreported report-up deadline and the overdue levels, for a screen."""
    occurred = dt.datetime.fromisoformat(summary["occurred_at"])
    pending = [
        clock for clock in summary["clocks"] if clock["level"] != "supplementary" and not clock["reported_at"]
    ]
    overdue = [clock["level"] for clock in pending if dt.datetime.fromisoformat(clock["due_at"]) < now]
    upcoming = [clock for clock in pending if dt.datetime.fromisoformat(clock["due_at"]) >= now]
    following = upcoming[0] if upcoming else None
    return {
        "elapsed_minutes": max(0, int((now - occurred).total_seconds() // 60)),
        "overdue": overdue,
        "next_level": following["level"] if following else None,
        "next_due_at": following["due_at"] if following else None,
        "minutes_left": (
            int((dt.datetime.fromisoformat(following["due_at"]) - now).total_seconds() // 60)
            if following
            else None
        ),
        "open": summary["status"] != IncidentStatus.CLOSED.value,
    }


async def board_open_first(*, now: dt.datetime, limit: int = 50) -> list[dict[str, Any]]:
    """Open incidents (newest first), then the latest closed ones, each with its clocks."""
    open_rows = await Incident.filter(status__in=list(OPEN_STATUSES)).order_by("-occurred_at").limit(limit)
    closed_rows: list[Incident] = []
    if len(open_rows) < limit:
        closed_rows = (
            await Incident.filter(status=IncidentStatus.CLOSED)
            .order_by("-occurred_at")
            .limit(limit - len(open_rows))
        )
    summaries = [summary_of(incident) for incident in [*open_rows, *closed_rows]]
    return [summary | {"clock": clocks_at(summary, now=now)} for summary in summaries]


async def map_features(summary: dict[str, Any], plan: plans.ConcretePlan) -> dict[str, Any]:
    """GeoJSON of the incident and the plan's nearest resources (those with a known location)."""
    features: list[dict[str, Any]] = []
    if summary["lat"] is not None and summary["lng"] is not None:
        features.append(_point(summary["lat"], summary["lng"], kind="incident", code=summary["code"]))
    chosen = {choice.code: choice for choice in plan.resources}
    for resource in await EmergencyResource.filter(code__in=list(chosen)).order_by("code"):
        choice = chosen[resource.code]
        features.append(
            _point(
                resource.lat,
                resource.lng,
                kind="resource",
                code=resource.code,
                name=resource.name,
                resource_kind=resource.kind,
                capability=choice.capability,
                distance_m=choice.distance_m,
            )
        )
    return {"type": "FeatureCollection", "features": features}


def _point(lat: float, lng: float, **properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lng, lat]},
        "properties": properties,
    }
