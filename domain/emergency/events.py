"""Events the emergency context publishes (the city feed relays them); no personal data in them."""

from __future__ import annotations

import datetime as dt

from domain.emergency.models import Incident
from domain.emergency.rules import IncidentGrade
from domain.events import DomainEvent
from domain.outbox import services as outbox

INCIDENT_REPORTED = "IncidentReported"
INCIDENT_UPDATED = "IncidentUpdated"
# One per dispatched target, for the evidence log: ``{"code", "action", "target", "target_kind",
# "recipients", "actor_id", "at"}`` (the staff account is pseudonymised in the leaf).
INCIDENT_DISPATCHED = "IncidentDispatched"


def _payload(incident: Incident) -> dict[str, object]:
    return {
        "code": incident.code,
        "incident_type": incident.incident_type.value,
        "grade": IncidentGrade(incident.grade).name.lower(),
        "status": incident.status.value,
        "site_code": incident.site_code,
        "project_code": incident.project_code,
        "lat": incident.lat,
        "lng": incident.lng,
        "deaths": incident.deaths,
        "serious_injuries": incident.serious_injuries,
        "occurred_at": incident.occurred_at.isoformat(),
    }


async def announce(incident: Incident, *, name: str, revision: str) -> None:
    """Into the event outbox, inside the caller's transaction; ``revision`` makes the event id stable
    for a retried change."""
    event = DomainEvent(name, _payload(incident), event_id=f"{incident.code}:{revision}")
    await outbox.append(event, aggregate=f"incident:{incident.code}")


async def announce_dispatch(
    incident: Incident, *, target: str, target_kind: str, recipients: int, actor: str, at: dt.datetime
) -> None:
    """Into the event outbox, in the dispatching transaction; a target is dispatched once per incident."""
    payload = {
        "code": incident.code,
        "action": "dispatched",
        "target": target,
        "target_kind": target_kind,
        "recipients": recipients,
        "actor_id": actor,
        "at": at.isoformat(),
    }
    event = DomainEvent(INCIDENT_DISPATCHED, payload, event_id=f"{incident.code}:dispatch:{target}")
    await outbox.append(event, aggregate=f"incident:{incident.code}", now=at)
