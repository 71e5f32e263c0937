"""Events the alerts context publishes (``domain.events`` streams ``events.<name>``)."""

from __future__ import annotations

import datetime as dt

from domain.events import DomainEvent

ALARM_RAISED = "AlarmRaised"
ALARM_CLOSED = "AlarmClosed"
ALARM_ACKNOWLEDGED = "AlarmAcknowledged"
VIOLATION_CONFIRMED = "ViolationConfirmed"


def alarm_raised(
    *, alarm_id: int, site_code: str, alarm_type: str, source: str, severity: str, at: dt.datetime
) -> DomainEvent:
    return DomainEvent(
        ALARM_RAISED,
        {
            "alarm_id": alarm_id,
            "site_code": site_code,
            "alarm_type": alarm_type,
            "source": source,
            "severity": severity,
            "at": at.isoformat(),
        },
        event_id=f"alarm-raised-{alarm_id}",
    )


def alarm_closed(*, alarm_id: int, site_code: str, state: str, at: dt.datetime) -> DomainEvent:
    return DomainEvent(
        ALARM_CLOSED,
        {"alarm_id": alarm_id, "site_code": site_code, "state": state, "at": at.isoformat()},
        event_id=f"alarm-closed-{alarm_id}",
    )


def alarm_acknowledged(*, alarm_id: int, site_code: str, actor: str, at: dt.datetime) -> DomainEvent:
    # One acknowledgement per alarm (the state machine allows it once), hence the stable id.
    return DomainEvent(
        ALARM_ACKNOWLEDGED,
        {"alarm_id": alarm_id, "site_code": site_code, "actor": actor, "at": at.isoformat()},
        event_id=f"alarm-acknowledged-{alarm_id}",
    )


def violation_confirmed(
    *,
    alarm_id: int,
    site_code: str,
    project_code: str,
    alarm_type: str,
    source: str,
    confirmed_by: str,
    at: dt.datetime,
) -> DomainEvent:
    # The event id is derived from the alarm, so a retried confirmation is one credit record.
    return DomainEvent(
        VIOLATION_CONFIRMED,
        {
            "alarm_id": alarm_id,
            "site_code": site_code,
            "project_code": project_code,
            "alarm_type": alarm_type,
            "source": source,
            "confirmed_by": confirmed_by,
            "at": at.isoformat(),
        },
        event_id=f"violation-confirmed-{alarm_id}",
    )
