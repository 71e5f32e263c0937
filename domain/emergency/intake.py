"""Incidents that open themselves: critical collapse-type alarms (``AlarmRaised`` events) and the
reporting-deadline reminders, run as background workers."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence

from domain.emergency import services
from domain.emergency.rules import INCIDENT_TYPE_LABELS, IncidentReport, incident_type_for_alarm
from domain.events import DomainEvent, run_consumer
from domain.ports import EventBus
from domain.projects.services import site_location

log = logging.getLogger(__name__)

CONSUMER_GROUP = "emergency"
ALARM_RAISED = "AlarmRaised"
REMINDER_INTERVAL_S = 60.0
DutyOpenids = Callable[[], Awaitable[Sequence[str]]]


async def handle_alarm_event(
    event: DomainEvent, *, duty_openids: Sequence[str], now: dt.datetime
) -> str | None:
    """Open an incident for a critical collapse-type alarm; the alarm id makes it idempotent."""
    payload = event.payload
    incident_type = incident_type_for_alarm(str(payload["alarm_type"]), str(payload["severity"]))
    if incident_type is None:
        return None
    site = await site_location(str(payload["site_code"])) or {}
    report = IncidentReport(
        source="alarm",
        source_ref=f"alarm:{payload['alarm_id']}",
        incident_type=incident_type,
        title=f"{INCIDENT_TYPE_LABELS[incident_type]}风险：{payload['alarm_type']} 告警",
        description=f"由危急告警 {payload['alarm_id']}（{payload['source']}）自动生成",
        site_code=str(payload["site_code"]),
        project_code=str(site.get("project_code", "")),
        address=str(site.get("address", "")),
        lat=site.get("lat"),
        lng=site.get("lng"),
        occurred_at=dt.datetime.fromisoformat(str(payload["at"])) if payload.get("at") else now,
    )
    incident, created = await services.report_incident(
        report, actor="system:alarm", duty_openids=duty_openids
    )
    if created:
        log.warning("incident %s opened from critical alarm %s", incident.code, payload["alarm_id"])
    return incident.code


async def run_alarm_intake(bus: EventBus, *, consumer: str, duty_openids: DutyOpenids) -> None:
    async def handle(event: DomainEvent) -> object:
        return await handle_alarm_event(event, duty_openids=await duty_openids(), now=dt.datetime.now(dt.UTC))

    await run_consumer(
        bus, group=CONSUMER_GROUP, consumer=consumer, event_names=[ALARM_RAISED], handle=handle
    )


async def run_reporting_reminders(
    *, duty_openids: DutyOpenids, interval_s: float = REMINDER_INTERVAL_S
) -> None:
    while True:
        try:
            await services.send_reporting_reminders(
                duty_openids=await duty_openids(), now=dt.datetime.now(dt.UTC)
            )
        except Exception:
            log.exception("reporting reminders failed; retrying")
        await asyncio.sleep(interval_s)
