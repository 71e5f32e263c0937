"""Emergency use cases: intake (bot, staff, alarms), grading, plans, nearest resources, dispatch,
reporting reminders, closing and the after-action report."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.accounts.rules import mask_openid
from domain.accounts.services import openids_of_departments
from domain.emergency import events, plans
from domain.emergency.models import Dispatch, EmergencyResource, Incident, IncidentEvent
from domain.emergency.queries import get_incident
from domain.emergency.rules import (
    GRADE_LABELS,
    INCIDENT_TYPE_LABELS,
    REPORT_LEVEL_LABELS,
    IncidentGrade,
    IncidentReport,
    IncidentStatus,
    ReportLevel,
    grade_incident,
    next_status,
    reminders_due,
    reporting_deadlines,
)
from domain.errors import NotFound, ValidationFailed
from domain.notifications.rules import TemplateContent
from domain.notifications.services import enqueue
from domain.ports import GeoIndex

log = logging.getLogger(__name__)

GEO_KEY = "emergency_resources"
SEARCH_RADIUS_M = 60_000
CANDIDATES = 60
REMINDER_LEAD = dt.timedelta(minutes=15)
SHANGHAI = ZoneInfo("Asia/Shanghai")


async def index_resources(geo: GeoIndex) -> int:
    """Load every active resource into the geo index (at start-up and after changes)."""
    resources = await EmergencyResource.filter(active=True).values("code", "lat", "lng")
    for row in resources:
        await geo.add(GEO_KEY, row["code"], lat=row["lat"], lng=row["lng"])
    return len(resources)


async def nearest_resources(
    geo: GeoIndex, *, lat: float, lng: float, capabilities: Sequence[str], per_capability: int = 2
) -> list[plans.ResourceChoice]:
    hits = await geo.nearest(GEO_KEY, lat=lat, lng=lng, radius_m=SEARCH_RADIUS_M, count=CANDIDATES)
    distance = {hit.member: hit.distance_m for hit in hits}
    resources = await EmergencyResource.filter(code__in=list(distance), active=True)
    candidates = [
        plans.ResourceChoice(
            code=r.code,
            name=r.name,
            kind=r.kind,
            capability=capability,
            distance_m=round(distance[r.code], 1),
            contact_name=r.contact_name,
            contact_phone=r.contact_phone,
        )
        for r in resources
        for capability in r.capabilities
    ]
    return plans.choose_resources(candidates, required=tuple(capabilities), per_capability=per_capability)


async def _event(incident: Incident, *, at: dt.datetime, actor: str, action: str, note: str = "") -> None:
    await IncidentEvent.create(incident=incident, at=at, actor=actor[:64], action=action, note=note)


def _check_counts(counts: dict[str, int]) -> None:
    problems = [
        f"{name} must be between 0 and 100000" for name, value in counts.items() if not 0 <= value <= 100_000
    ]
    if problems:
        raise ValidationFailed("; ".join(problems), problems=problems)


async def report_incident(
    report: IncidentReport,
    *,
    actor: str,
    duty_openids: Sequence[str] = (),
) -> tuple[Incident, bool]:
    """Create an incident (idempotent on ``source_ref``) and tell the duty staff at once."""
    _check_counts(
        {
            "deaths": report.deaths,
            "serious_injuries": report.serious_injuries,
            "minor_injuries": report.minor_injuries,
        }
    )
    if report.source_ref:
        existing = await Incident.get_or_none(source_ref=report.source_ref)
        if existing is not None:
            return existing, False
    try:
        async with in_transaction():
            incident = await _create_incident(report)
            note = f"{report.source}: {report.title}"
            await _event(incident, at=report.occurred_at, actor=actor, action="reported", note=note)
            # The duty notices and the event commit with the incident: a retry finds the incident and
            # stops, so they must not be left for after the commit.
            await _notify_duty(incident, duty_openids, now=report.occurred_at)
            await events.announce(incident, name=events.INCIDENT_REPORTED, revision="reported")
    except IntegrityError:
        return await Incident.get(source_ref=report.source_ref), False
    who = mask_openid(report.reporter_openid) or actor
    log.info("incident %s reported via %s by %s", incident.code, report.source, who)
    return incident, True


async def _create_incident(report: IncidentReport) -> Incident:
    """The row and its code (YJ + date + id), inside the caller's transaction."""
    values = {field.name: getattr(report, field.name) for field in dataclasses.fields(report)}
    values |= {"grade": int(report.grade), "title": report.title[:100], "address": report.address[:200]}
    incident = await Incident.create(**values)
    incident.code = f"YJ{report.occurred_at.strftime('%Y%m%d')}-{incident.id:04d}"
    await incident.save(update_fields=["code"])
    return incident


def _template(incident: Incident, *, now: dt.datetime) -> TemplateContent:
    """Template/subscribe form of an emergency message, for people outside the 48 h window."""
    return TemplateContent(
        "emergency_dispatch",
        {
            "thing1": f"{INCIDENT_TYPE_LABELS[incident.incident_type]}{incident.code}",
            "thing2": (incident.address or incident.site_code or "待确认")[:20],
            "phrase3": GRADE_LABELS[IncidentGrade(incident.grade)][:5],
            "time4": now.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
        },
    )


async def _notify_duty(incident: Incident, duty_openids: Sequence[str], *, now: dt.datetime) -> None:
    label = INCIDENT_TYPE_LABELS[incident.incident_type]
    place = incident.address or incident.site_code or "待确认"
    text = (
        f"【应急】{incident.code} {label}：{incident.title}。地点：{place}。"
        f"伤亡：死亡{incident.deaths}，重伤{incident.serious_injuries}，被困{incident.trapped}。请立即处置。"
    )
    template = _template(incident, now=now)
    for openid in dict.fromkeys(duty_openids):
        await enqueue(
            recipient_openid=openid,
            text=text,
            idempotency_key=f"incident:{incident.id}:duty:{openid}",
            category="emergency",
            template=template,
            now=now,
        )


async def update_incident(code: str, *, actor: str, now: dt.datetime, changes: dict[str, Any]) -> Incident:
    """Update casualties, loss, status or location; re-grades when the counts change."""
    incident = await get_incident(code)
    counts = {
        k: int(v)
        for k, v in changes.items()
        if k in ("deaths", "serious_injuries", "minor_injuries", "trapped")
    }
    _check_counts(counts)
    for name, value in counts.items():
        setattr(incident, name, value)
    if "direct_loss_yuan" in changes:
        incident.direct_loss_yuan = max(0, int(changes["direct_loss_yuan"]))
    for name in ("address", "lat", "lng", "site_code"):
        if name in changes:
            setattr(incident, name, changes[name])
    if "status" in changes:
        incident.status = next_status(incident.status, IncidentStatus(changes["status"]))
    new_grade = grade_incident(
        deaths=incident.deaths,
        serious_injuries=incident.serious_injuries,
        direct_loss_yuan=incident.direct_loss_yuan,
    )
    note = ", ".join(f"{k}={v}" for k, v in sorted(changes.items()))
    async with in_transaction():
        if int(new_grade) != incident.grade:
            await _event(
                incident,
                at=now,
                actor=actor,
                action="regraded",
                note=f"{GRADE_LABELS[IncidentGrade(incident.grade)]} → {GRADE_LABELS[new_grade]}",
            )
            incident.grade = int(new_grade)
        await incident.save()
        await _event(incident, at=now, actor=actor, action="updated", note=note)
        await events.announce(incident, name=events.INCIDENT_UPDATED, revision=f"updated:{now.isoformat()}")
    return incident


async def mark_reported(code: str, *, level: ReportLevel, actor: str, now: dt.datetime) -> Incident:
    incident = await get_incident(code)
    incident.reported_levels = {**incident.reported_levels, level.value: now.isoformat()}
    await incident.save(update_fields=["reported_levels", "updated_at"])
    await _event(incident, at=now, actor=actor, action="reported_up", note=level.value)
    return incident


async def plan_for(code: str, *, geo: GeoIndex, now: dt.datetime) -> plans.ConcretePlan:
    incident = await get_incident(code)
    template = plans.plan_templates()[incident.incident_type]
    resources: list[plans.ResourceChoice] = []
    if incident.lat is not None and incident.lng is not None:
        resources = await nearest_resources(
            geo, lat=incident.lat, lng=incident.lng, capabilities=template.required_capabilities
        )
    grade = IncidentGrade(incident.grade)
    return plans.build_plan(
        template,
        incident_code=incident.code or "",
        grade=grade,
        site={
            "site_code": incident.site_code,
            "project_code": incident.project_code,
            "address": incident.address,
        },
        resources=resources,
        deadlines=reporting_deadlines(grade, occurred_at=incident.occurred_at),
        now=now,
    )


async def dispatch(
    code: str,
    *,
    targets: Sequence[str],
    departments: Mapping[str, Sequence[str]],
    actor: str,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """One click: notify each chosen resource and each linked department once, however often clicked.

    ``departments`` maps a department name to the openids of its duty staff.
    """
    incident = await get_incident(code)
    if incident.status is IncidentStatus.CLOSED:
        raise ValidationFailed("the incident is closed", code="incident_closed")
    resources = {r.code: r for r in await EmergencyResource.filter(code__in=list(targets))}
    unknown = [t for t in targets if t not in resources]
    if unknown:
        raise ValidationFailed(f"unknown resources: {', '.join(unknown[:5])}", code="unknown_resource")
    recipients = [
        (code_, "resource", [r.contact_openid] if r.contact_openid else []) for code_, r in resources.items()
    ]
    recipients += [(f"dept:{name}", "department", list(openids)) for name, openids in departments.items()]
    results = []
    for target, kind, openids in recipients:
        created = await _dispatch_once(
            incident, target=target, kind=kind, openids=openids, actor=actor, now=now
        )
        results.append({"target": target, "kind": kind, "new": created, "recipients": len(openids)})
    if incident.status is IncidentStatus.REPORTED:
        incident.status = IncidentStatus.DISPATCHED
        await incident.save(update_fields=["status", "updated_at"])
    return results


async def _dispatch_once(
    incident: Incident, *, target: str, kind: str, openids: Sequence[str], actor: str, now: dt.datetime
) -> bool:
    """The dispatch row is unique per incident and target, so only the first click sends messages
    (each also idempotent in the outbox). True when this call dispatched."""
    # One transaction: the dispatch row, its messages and its evidence event commit together, so a
    # crash between them cannot leave a "dispatched" target whose messages were never queued.
    async with in_transaction():
        dispatch_row, created = await Dispatch.get_or_create(
            incident=incident,
            target=target,
            defaults={"target_kind": kind, "dispatched_at": now, "dispatched_by": actor[:64]},
        )
        if not created:
            return False
        text = (
            f"【应急调度】{incident.code} {INCIDENT_TYPE_LABELS[incident.incident_type]}，"
            f"地点：{incident.address or incident.site_code}。请立即出动并回复确认。"
        )
        outbox_ids = [
            await enqueue(
                recipient_openid=openid,
                text=text,
                category="emergency",
                template=_template(incident, now=now),
                now=now,
                idempotency_key=f"incident:{incident.id}:dispatch:{target}:{openid}",
            )
            for openid in openids
        ]
        dispatch_row.outbox_id = outbox_ids[0] if outbox_ids else None
        await dispatch_row.save(update_fields=["outbox_id"])
        await _event(incident, at=now, actor=actor, action="dispatched", note=target)
        await events.announce_dispatch(
            incident, target=target, target_kind=kind, recipients=len(openids), actor=actor, at=now
        )
    return True


async def acknowledge(code: str, *, target: str, actor: str, now: dt.datetime) -> None:
    incident = await get_incident(code)
    row = await Dispatch.get_or_none(incident=incident, target=target)
    if row is None:
        raise NotFound("nothing was dispatched to that target", code="dispatch_not_found")
    if row.acknowledged_at is None:
        row.acknowledged_at, row.acknowledged_by = now, actor[:64]
        await row.save(update_fields=["acknowledged_at", "acknowledged_by"])
        await _event(incident, at=now, actor=actor, action="acknowledged", note=target)


async def close_incident(code: str, *, summary: str, actor: str, now: dt.datetime) -> Incident:
    incident = await get_incident(code)
    incident.status = next_status(incident.status, IncidentStatus.CLOSED)
    incident.summary, incident.closed_at = summary, now
    async with in_transaction():
        await incident.save()
        await _event(incident, at=now, actor=actor, action="closed", note=summary[:500])
        await events.announce(incident, name=events.INCIDENT_UPDATED, revision="closed")
    return incident


async def append_reporter_message(
    openid: str, text: str, *, now: dt.datetime, window: dt.timedelta
) -> Incident | None:
    """Later messages from the same reporter go onto their open incident's timeline."""
    incident = (
        await Incident.filter(reporter_openid=openid, created_at__gte=now - window)
        .exclude(status=IncidentStatus.CLOSED)
        .order_by("-id")
        .first()
    )
    if incident is not None:
        await _event(incident, at=now, actor="reporter", action="reporter_message", note=text[:1000])
    return incident


async def send_reporting_reminders(*, duty_openids: Sequence[str], now: dt.datetime) -> int:
    """Remind the duty staff before each unreported deadline (once per incident and level)."""
    sent = 0
    for incident in await Incident.exclude(status=IncidentStatus.CLOSED):
        deadlines = reporting_deadlines(IncidentGrade(incident.grade), occurred_at=incident.occurred_at)
        for due in reminders_due(
            deadlines, reported=set(incident.reported_levels), now=now, lead=REMINDER_LEAD
        ):
            for openid in duty_openids:
                await enqueue(
                    recipient_openid=openid,
                    category="emergency_reminder",
                    now=now,
                    idempotency_key=f"incident:{incident.id}:remind:{due.level.value}:{openid}",
                    text=f"【报告时限】{incident.code} 须在 {due.due_at.astimezone(SHANGHAI):%m-%d %H:%M} "
                    f"前报告{REPORT_LEVEL_LABELS[due.level]}。",
                )
                sent += 1
    return sent


def plan_as_dict(plan: plans.ConcretePlan) -> dict[str, Any]:
    return asdict(plan)


DUTY_DEPARTMENTS = ("emergency", "housing")


async def duty_openids(extra: Sequence[str] = ()) -> list[str]:
    """Who is on duty for incidents: the configured admins plus emergency and housing staff."""
    found = await openids_of_departments(list(DUTY_DEPARTMENTS))
    return list(dict.fromkeys([*extra, *(openid for ids in found.values() for openid in ids)]))
