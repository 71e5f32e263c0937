"""Alarm use cases: raise (create-or-update, atomic), clear, acknowledge, resolve, confirm as a
violation, escalate, and the notifications to bound site managers.

``raise_alarm`` is the cross-team entry (the vision worker and the IoT bridge both call it).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from domain.alerts import events, messages, notify
from domain.alerts.models import Alarm, AlarmEvent, SiteBinding
from domain.alerts.rules import (
    OPEN_STATES,
    SEVERITY_RANK,
    AlarmAction,
    Severity,
    active_key,
    closing_time,
    counts_as_repeatable,
    higher,
    next_state,
    parse_severity,
    repeated_violation,
)
from domain.errors import Forbidden, NotFound, ValidationFailed
from domain.outbox import services as outbox
from domain.ports import EventBus
from domain.projects.models import Site

log = logging.getLogger(__name__)
REPEATED_WINDOW = dt.timedelta(hours=24)
REPEATED_THRESHOLD = 3
REPEATED_TYPE = "repeated_violation"
MAX_ATTEMPTS = 5
MAX_ID = 2**31 - 1

_project_of_site: dict[str, str] = {}


async def project_code_of(site_code: str) -> str:
    """Sites never change project, so the answer is cached for the process's life."""
    if site_code not in _project_of_site:
        row = await Site.filter(code=site_code).values_list("project__code", flat=True)
        _project_of_site[site_code] = str(row[0]) if row else ""
    return _project_of_site[site_code]


@dataclass(frozen=True, slots=True)
class _Report:
    """What one report of the condition brings, whether it creates the alarm or updates it."""

    level: Severity
    value: float | None
    limit: float | None
    message: str
    brief: str
    at: dt.datetime
    evidence_ref: str | None


async def raise_alarm(
    *,
    bus: EventBus,
    source: str,
    alarm_type: str,
    severity: str,
    site_code: str,
    value: float | None,
    limit: float | None,
    message: str,
    at: dt.datetime,
    evidence_ref: str | None = None,
    people: int | None = None,
) -> int:
    """Create THE active alarm for (source, alarm_type), or update it; returns its id.

    The stored message is written here, in plain Chinese, from the type, value and limit (units and
    limits for sensors; people and confidence for cameras, given as ``people`` and ``value``);
    ``message`` is the caller's detail (an offline alarm's device list) or the whole text for a type
    the catalog does not know.

    Atomic without locks: the insert races on the unique ``active_key``; the loser updates the
    winner's row instead.
    """
    level = parse_severity(severity)
    if not source or not alarm_type or not site_code:
        raise ValidationFailed("source, alarm_type and site_code are required", code="invalid_alarm")
    text = messages.describe(alarm_type, value=value, limit=limit, detail=message, people=people)
    brief = messages.brief(alarm_type, value=value, limit=limit, people=people)
    report = _Report(level, value, limit, text, brief, at, evidence_ref)
    key = active_key(source, alarm_type)
    for _attempt in range(MAX_ATTEMPTS):
        existing = await Alarm.filter(active_key=key).first()
        if existing is not None:
            return await _update(existing, report)
        # The alarm, its AlarmRaised event and the managers' notices commit together.
        async with in_transaction():
            alarm = await _create(
                key, source=source, alarm_type=alarm_type, site_code=site_code, report=report
            )
            if alarm is not None:
                await _announce_raised(bus, alarm, report)
        if alarm is None:
            continue  # another reading created it a moment ago: update that one
        return alarm.id
    raise RuntimeError(f"could not create or update alarm {key} after {MAX_ATTEMPTS} attempts")


async def _create(key: str, *, source: str, alarm_type: str, site_code: str, report: _Report) -> Alarm | None:
    """The insert half of the race; None when another reading's insert won the ``active_key``.

    In a savepoint of its own, so a lost race leaves the caller's transaction usable."""
    try:
        async with in_transaction():
            return await Alarm.create(
                source=source,
                alarm_type=alarm_type,
                active_key=key,
                severity=report.level,
                site_code=site_code,
                project_code=await project_code_of(site_code),
                value=report.value,
                limit=report.limit,
                peak_value=report.value,
                message=report.message[:300],
                brief=report.brief,
                evidence_ref=report.evidence_ref,
                raised_at=report.at,
                last_seen_at=report.at,
            )
    except IntegrityError:
        return None


async def _announce_raised(bus: EventBus, alarm: Alarm, report: _Report) -> None:
    """A new alarm: its timeline, the event, the managers, and the repeated-violation check."""
    at = report.at
    await AlarmEvent.create(
        alarm_id=alarm.id, kind="raised", at=at, value=report.value, note=report.message[:300]
    )
    raised = events.alarm_raised(
        alarm_id=alarm.id,
        site_code=alarm.site_code,
        alarm_type=alarm.alarm_type,
        source=alarm.source,
        severity=report.level.value,
        at=at,
    )
    await outbox.append(raised, aggregate=f"alarm:{alarm.id}", now=at)
    await notify.notify_managers(alarm, created=True, severity_rose=False, now=at)
    if counts_as_repeatable(alarm.alarm_type):
        await _check_repeated(bus, alarm, at=at)


async def _update(alarm: Alarm, report: _Report) -> int:
    severity = higher(alarm.severity, report.level)
    severity_rose = SEVERITY_RANK[severity] > SEVERITY_RANK[alarm.severity]
    changes: dict[str, object] = {
        "severity": severity,
        "value": report.value,
        "limit": report.limit,
        "message": report.message[:300],
        "brief": report.brief,
        # A report stamped earlier than one already seen (a late reading, a camera's slow upload)
        # never moves the alarm's clock back.
        "last_seen_at": max(report.at, alarm.last_seen_at),
        "update_count": F("update_count") + 1,
        "clean_count": 0,
    }
    if report.evidence_ref:
        changes["evidence_ref"] = report.evidence_ref
    updated = await Alarm.filter(id=alarm.id, active_key__isnull=False).update(**changes)
    if not updated:
        log.info("alarm %s closed while being updated", alarm.id)
        return alarm.id
    value = report.value
    if value is not None:
        # Conditional, so concurrent updates can only raise the peak, never lower it.
        await Alarm.filter(Q(peak_value__isnull=True) | Q(peak_value__lt=value), id=alarm.id).update(
            peak_value=value
        )
    await AlarmEvent.create(
        alarm_id=alarm.id,
        kind="updated",
        at=report.at,
        value=value,
        note=f"severity={severity.value}" if severity_rose else "",
    )
    await alarm.refresh_from_db()
    await notify.notify_managers(alarm, created=False, severity_rose=severity_rose, now=report.at)
    return alarm.id


async def _check_repeated(bus: EventBus, alarm: Alarm, *, at: dt.datetime) -> None:
    """The same rule on the same device (or camera), never the same type on different devices."""
    count = await Alarm.filter(
        source=alarm.source, alarm_type=alarm.alarm_type, raised_at__gte=at - REPEATED_WINDOW
    ).count()
    if repeated_violation(count, threshold=REPEATED_THRESHOLD):
        await raise_alarm(
            bus=bus,
            source=f"{alarm.source}:{alarm.alarm_type}"[:64],
            alarm_type=REPEATED_TYPE,
            severity=Severity.MAJOR.value,
            site_code=alarm.site_code,
            value=float(count),
            limit=float(REPEATED_THRESHOLD),
            message=messages.repeated_detail(source=alarm.source, alarm_type=alarm.alarm_type, count=count),
            at=at,
        )


async def bound_openids(site_code: str) -> list[str]:
    """The openids of the managers bound to a site (the complaints context notifies them too)."""
    return await notify.bound_openids(site_code)


async def clear_alarm(*, bus: EventBus, source: str, alarm_type: str, at: dt.datetime) -> int | None:
    """The condition stayed normal for its hold time (the rules decide that): close the alarm."""
    alarm = await Alarm.filter(active_key=active_key(source, alarm_type)).first()
    if alarm is None:
        return None
    return await close(bus, alarm, action=AlarmAction.CLEAR, actor="system", at=at)


async def close(
    bus: EventBus,
    alarm: Alarm,
    *,
    action: AlarmAction,
    actor: str,
    at: dt.datetime,
    note: str = "",
    photo_ref: str = "",
) -> int:
    state = next_state(alarm.state, action)
    at = closing_time(at=at, raised_at=alarm.raised_at)
    changes: dict[str, object] = {"state": state, "active_key": None, "closed_at": at}
    if action is AlarmAction.RESOLVE:
        changes |= {"resolution_note": note, "resolution_photo_ref": photo_ref}
    async with in_transaction():
        closed = await Alarm.filter(id=alarm.id, active_key__isnull=False).update(**changes)
        if closed:
            await AlarmEvent.create(
                alarm_id=alarm.id, kind=state.value, at=at, actor=actor, note=note, photo_ref=photo_ref
            )
            event = events.alarm_closed(
                alarm_id=alarm.id, site_code=alarm.site_code, state=state.value, at=at
            )
            await outbox.append(event, aggregate=f"alarm:{alarm.id}", now=at)
    return alarm.id


async def _alarm_for(alarm_id: int, *, openid: str | None) -> Alarm:
    """``openid`` set means a site manager acts: only on alarms of sites they are bound to."""
    # Ids outside the column's range cannot exist (and SQLite refuses to bind them): a 404, not a 500.
    alarm = await Alarm.filter(id=alarm_id).first() if 0 < alarm_id <= MAX_ID else None
    if alarm is None:
        raise NotFound(f"no alarm {alarm_id}", code="alarm_not_found")
    if openid is not None and not await SiteBinding.exists(site_code=alarm.site_code, openid=openid):
        raise Forbidden("you are not bound to this site", code="site_not_bound")
    return alarm


async def acknowledge(alarm_id: int, *, actor: str, openid: str | None, at: dt.datetime) -> dict[str, Any]:
    alarm = await _alarm_for(alarm_id, openid=openid)
    state = next_state(alarm.state, AlarmAction.ACKNOWLEDGE)
    async with in_transaction():
        done = await Alarm.filter(id=alarm.id, state=alarm.state).update(
            state=state, acknowledged_at=at, acknowledged_by=actor
        )
        if done:
            await AlarmEvent.create(alarm_id=alarm.id, kind="acknowledged", at=at, actor=actor)
            event = events.alarm_acknowledged(
                alarm_id=alarm.id, site_code=alarm.site_code, actor=actor, at=at
            )
            await outbox.append(event, aggregate=f"alarm:{alarm.id}", now=at)
    return await alarm_detail(alarm_id)


async def resolve(
    alarm_id: int,
    *,
    bus: EventBus,
    actor: str,
    openid: str | None,
    note: str,
    photo_ref: str,
    at: dt.datetime,
) -> dict[str, Any]:
    if not note.strip() or len(note) > 1000:
        raise ValidationFailed("a note of 1 to 1000 characters is required", code="invalid_note")
    if not photo_ref or len(photo_ref) > 100:
        raise ValidationFailed("a photo of the fix is required", code="photo_required")
    alarm = await _alarm_for(alarm_id, openid=openid)
    await close(
        bus, alarm, action=AlarmAction.RESOLVE, actor=actor, at=at, note=note.strip(), photo_ref=photo_ref
    )
    return await alarm_detail(alarm_id)


async def confirm_violation(alarm_id: int, *, bus: EventBus, staff: str, at: dt.datetime) -> dict[str, Any]:
    """Staff judge the alarm a real violation: the credit context records it (once per alarm)."""
    alarm = await _alarm_for(alarm_id, openid=None)
    project_code = alarm.project_code or await project_code_of(alarm.site_code)
    async with in_transaction():
        first = await Alarm.filter(id=alarm.id, confirmed_violation_by="").update(
            confirmed_violation_by=staff
        )
        if first:
            await AlarmEvent.create(alarm_id=alarm.id, kind="violation_confirmed", at=at, actor=staff)
            event = events.violation_confirmed(
                alarm_id=alarm.id,
                site_code=alarm.site_code,
                project_code=project_code,
                alarm_type=alarm.alarm_type,
                source=alarm.source,
                confirmed_by=staff,
                at=at,
            )
            await outbox.append(event, aggregate=f"alarm:{alarm.id}", now=at)
    return await alarm_detail(alarm_id)


def _row(alarm: Alarm) -> dict[str, Any]:
    return {
        "id": alarm.id,
        "source": alarm.source,
        "alarm_type": alarm.alarm_type,
        "label": messages.label_of(alarm.alarm_type),
        "state": alarm.state.value,
        "severity": alarm.severity.value,
        "site_code": alarm.site_code,
        "project_code": alarm.project_code,
        "value": alarm.value,
        "limit": alarm.limit,
        "peak_value": alarm.peak_value,
        "message": alarm.message,
        "brief": alarm.brief,
        "evidence_ref": alarm.evidence_ref,
        "update_count": alarm.update_count,
        "raised_at": alarm.raised_at.isoformat(),
        "last_seen_at": alarm.last_seen_at.isoformat(),
        "acknowledged_at": alarm.acknowledged_at.isoformat() if alarm.acknowledged_at else None,
        "closed_at": alarm.closed_at.isoformat() if alarm.closed_at else None,
        "escalated": alarm.escalated_at is not None,
        "violation_confirmed": bool(alarm.confirmed_violation_by),
        "resolution_note": alarm.resolution_note,
        "resolution_photo_ref": alarm.resolution_photo_ref,
    }


async def alarm_detail(alarm_id: int, *, openid: str | None = None) -> dict[str, Any]:
    alarm = await _alarm_for(alarm_id, openid=openid)
    timeline = await AlarmEvent.filter(alarm_id=alarm.id).order_by("id")
    return _row(alarm) | {
        "timeline": [
            {
                "kind": e.kind,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "value": e.value,
                "note": e.note,
                "photo_ref": e.photo_ref,
            }
            for e in timeline
        ]
    }


def is_open(alarm: Alarm) -> bool:
    return alarm.state in OPEN_STATES
