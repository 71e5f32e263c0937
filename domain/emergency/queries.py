"""Read side of the emergency context: the board, an incident's detail with its timeline, dispatches
and reporting clocks (what the staff screens and the after-action report show)."""

from __future__ import annotations

from typing import Any

from domain.emergency.models import Dispatch, Incident, IncidentEvent
from domain.emergency.rules import (
    GRADE_LABELS,
    INCIDENT_TYPE_LABELS,
    IncidentGrade,
    IncidentStatus,
    reporting_deadlines,
    supplementary_due,
)
from domain.errors import NotFound


async def get_incident(code: str) -> Incident:
    incident = await Incident.get_or_none(code=code)
    if incident is None:
        raise NotFound(f"no incident {code[:24]}", code="incident_not_found")
    return incident


def _clocks(incident: Incident) -> list[dict[str, Any]]:
    grade = IncidentGrade(incident.grade)
    rows = [
        {
            "level": d.level.value,
            "due_at": d.due_at.isoformat(),
            "reported_at": incident.reported_levels.get(d.level.value),
        }
        for d in reporting_deadlines(grade, occurred_at=incident.occurred_at)
    ]
    rows.append(
        {
            "level": "supplementary",
            "due_at": supplementary_due(incident.occurred_at).isoformat(),
            "reported_at": None,
        }
    )
    return rows


def summary_of(incident: Incident) -> dict[str, Any]:
    grade = IncidentGrade(incident.grade)
    return {
        "code": incident.code,
        "incident_type": incident.incident_type.value,
        "type_label": INCIDENT_TYPE_LABELS[incident.incident_type],
        "status": incident.status.value,
        "grade": grade.name.lower(),
        "grade_label": GRADE_LABELS[grade],
        "title": incident.title,
        "site_code": incident.site_code,
        "address": incident.address,
        "lat": incident.lat,
        "lng": incident.lng,
        "deaths": incident.deaths,
        "serious_injuries": incident.serious_injuries,
        "minor_injuries": incident.minor_injuries,
        "trapped": incident.trapped,
        "direct_loss_yuan": incident.direct_loss_yuan,
        "source": incident.source,
        "occurred_at": incident.occurred_at.isoformat(),
        "clocks": _clocks(incident),
    }


async def board(*, status: str = "", limit: int = 50) -> list[dict[str, Any]]:
    queryset = Incident.all().order_by("-occurred_at")
    if status:
        queryset = queryset.filter(status=IncidentStatus(status))
    return [summary_of(incident) for incident in await queryset.limit(limit)]


async def detail(code: str) -> dict[str, Any]:
    incident = await get_incident(code)
    events = await IncidentEvent.filter(incident=incident).order_by("at", "id")
    dispatches = await Dispatch.filter(incident=incident).order_by("id")
    return {
        **summary_of(incident),
        "description": incident.description,
        "summary": incident.summary,
        "timeline": [
            {"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "note": e.note} for e in events
        ],
        "dispatches": [
            {
                "target": d.target,
                "kind": d.target_kind,
                "dispatched_at": d.dispatched_at.isoformat(),
                "acknowledged_at": d.acknowledged_at.isoformat() if d.acknowledged_at else None,
            }
            for d in dispatches
        ],
    }
