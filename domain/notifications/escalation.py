"""Escalations to a department's duty roster, and the roster itself.

An escalation goes to the roster of the responsible department only (or the ``default`` roster when
that department has none), as a WeChat template message (``alarm_escalation``). The dispatcher then
watches it: once one message is delivered it is done; if none is by the deadline, the admins are
alerted and the roster gets an SMS through the SMS port.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.accounts.rules import Department, Principal, Role, mask_openid
from domain.errors import Forbidden, ValidationFailed
from domain.notifications import services
from domain.notifications.models import DutyRosterEntry, Escalation, OutboxMessage
from domain.notifications.ports import DeliveryTransient, SmsRejected, SmsSender
from domain.notifications.rules import (
    DEFAULT_ROSTER,
    EscalationState,
    TemplateContent,
    escalation_outcome,
    roster_department,
)

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
ESCALATION_CATEGORY = "alarm_escalation"
ESCALATION_TEMPLATE = "alarm_escalation"
ROSTER_DEPARTMENTS = frozenset({DEFAULT_ROSTER, *(department.value for department in Department)})
MAX_ROSTER = 20
_PHONE = re.compile(r"^1\d{10}$")
_OPENID = re.compile(r"^[A-Za-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class RosterMember:
    name: str
    openid: str = ""
    phone: str = ""


def _check_roster(department: str, members: Sequence[RosterMember]) -> None:
    problems: list[str] = []
    if department not in ROSTER_DEPARTMENTS:
        problems.append(f"department must be one of {sorted(ROSTER_DEPARTMENTS)}")
    if len(members) > MAX_ROSTER:
        problems.append(f"at most {MAX_ROSTER} people per roster")
    for index, member in enumerate(members):
        if not member.name.strip() or len(member.name) > 64 or not member.name.isprintable():
            problems.append(f"entries[{index}].name must be 1-64 printable characters")
        if len(member.openid) > 64 or not _OPENID.match(member.openid):
            problems.append(f"entries[{index}].openid must be at most 64 letters, digits, - or _")
        if member.phone and not _PHONE.match(member.phone):
            problems.append(f"entries[{index}].phone must be an 11-digit mainland mobile number")
        if not member.openid and not member.phone:
            problems.append(f"entries[{index}] needs an openid or a phone to be reachable")
    if problems:
        raise ValidationFailed("invalid duty roster", code="invalid_roster", problems=problems)


def check_roster_editor(principal: Principal, department: str) -> None:
    """Who may replace a roster (the API and the console alike): staff their own department's,
    admins any, the ``default`` roster included."""
    if principal.role is not Role.ADMIN and principal.department != department:
        raise Forbidden("staff edit only their own department's roster", code="forbidden_department")


async def replace_roster(
    department: str, members: Sequence[RosterMember], *, actor: str, now: dt.datetime
) -> list[dict[str, str]]:
    """Replace a department's roster in one transaction (an empty list removes it)."""
    _check_roster(department, members)
    async with in_transaction():
        await DutyRosterEntry.filter(department=department).delete()
        for member in members:
            await DutyRosterEntry.create(
                department=department,
                name=member.name.strip(),
                openid=member.openid,
                phone=member.phone,
                updated_by=actor[:64],
                updated_at=now,
            )
    log.info("duty roster of %s replaced by %s (%s people)", department, actor, len(members))
    return await list_roster(department)


def _mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if phone else ""


async def list_roster(department: str = "") -> list[dict[str, str]]:
    """The roster entries (openids and phones masked), by department."""
    query = DutyRosterEntry.all()
    if department:
        query = query.filter(department=department)
    rows = await query.order_by("department", "id")
    return [
        {
            "department": row.department,
            "name": row.name,
            "openid": mask_openid(row.openid) if row.openid else "",
            "phone": _mask_phone(row.phone),
            "updated_by": row.updated_by,
            "updated_at": row.updated_at.isoformat(),
        }
        for row in rows
    ]


async def roster_for(department: str) -> list[DutyRosterEntry]:
    rows = await DutyRosterEntry.all().distinct().values_list("department", flat=True)
    staffed = frozenset(str(row) for row in rows)
    chosen = roster_department(department, departments_with_roster=staffed)
    return await DutyRosterEntry.filter(department=chosen).order_by("id")


@dataclass(frozen=True, slots=True)
class EscalationRequest:
    key: str  # one escalation per key, however often it is asked for
    department: str
    text: str
    template: TemplateContent
    sms_params: dict[str, str]


async def escalate(
    request: EscalationRequest, *, now: dt.datetime, fallback_openids: Sequence[str] = ()
) -> int:
    """Send to the responsible roster; returns the escalation id. ``fallback_openids`` (the configured
    admins) stand in only while no roster at all exists, so an escalation never goes nowhere."""
    existing = await Escalation.get_or_none(key=request.key)
    if existing is not None:
        return existing.id
    members = await roster_for(request.department)
    openids = [member.openid for member in members if member.openid] or (
        list(fallback_openids) if not members else []
    )
    outbox_ids = [
        await services.enqueue(
            recipient_openid=openid,
            text=request.text,
            template=request.template,
            category=ESCALATION_CATEGORY,
            idempotency_key=f"{request.key}:{openid}"[:200],
            now=now,
        )
        for openid in openids
    ]
    try:
        async with in_transaction():
            record = await Escalation.create(
                key=request.key,
                department=request.department,
                outbox_ids=outbox_ids,
                phones=[member.phone for member in members if member.phone],
                sms_params=request.sms_params,
                created_at=now,
            )
    except IntegrityError:
        return (await Escalation.get(key=request.key)).id
    log.info("escalation %s to %s: %s message(s)", request.key, request.department, len(outbox_ids))
    return record.id


@dataclass(frozen=True, slots=True)
class Fallback:
    """What an undelivered escalation falls back to."""

    sms: SmsSender | None
    sms_template_code: str
    admin_openids: Sequence[str]
    deadline: dt.timedelta


async def settle_due(fallback: Fallback, *, now: dt.datetime) -> list[int]:
    """Settle pending escalations: delivered, or past the deadline (admins alerted, SMS sent)."""
    settled: list[int] = []
    for record in await Escalation.filter(state=EscalationState.PENDING).order_by("id").limit(100):
        statuses = [
            message.status for message in await OutboxMessage.filter(id__in=record.outbox_ids or [-1])
        ]
        outcome = escalation_outcome(
            statuses, created_at=record.created_at, now=now, deadline=fallback.deadline
        )
        if outcome is None:
            continue
        claimed = await Escalation.filter(id=record.id, state=EscalationState.PENDING).update(
            state=outcome, settled_at=now
        )
        if not claimed:
            continue  # another dispatcher settled it
        if outcome is EscalationState.FALLBACK:
            await _fall_back(record, fallback, now=now)
        settled.append(record.id)
    return settled


async def enqueue_admin_alert(
    admin_openids: Sequence[str], *, text: str, key: str, now: dt.datetime
) -> list[int]:
    """A plain alert to each admin through the ``admin_alert`` template (a configured channel)."""
    template = TemplateContent(
        "admin_alert",
        {
            "thing1": text[:19] + "…" if len(text) > 20 else text,
            "character_string2": key.rsplit(":", 1)[-1][:32],
            "time3": now.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
        },
    )
    return [
        await services.enqueue(
            recipient_openid=openid,
            text=text,
            idempotency_key=f"admin:{key}:{openid}"[:200],
            category="admin_alert",
            template=template,
            now=now,
        )
        for openid in admin_openids
    ]


async def _fall_back(record: Escalation, fallback: Fallback, *, now: dt.datetime) -> None:
    log.error("escalation %s not delivered by its deadline: alerting admins, SMS", record.key)
    await enqueue_admin_alert(
        fallback.admin_openids,
        text=f"告警升级未能通过微信送达（{record.key}），已改用短信通知值班人员。",
        key=f"escalation-undelivered:{record.id}",
        now=now,
    )
    sent, notes = 0, []
    for phone in record.phones:
        if fallback.sms is None or not fallback.sms_template_code:
            notes.append("sms not configured")
            break
        try:
            await fallback.sms.send(
                phone,
                template_code=fallback.sms_template_code,
                params=record.sms_params,
                out_id=f"esc-{record.id}",
            )
            sent += 1
        except SmsRejected as refused:
            notes.append(refused.code)
        except DeliveryTransient as error:
            notes.append(str(error)[:60])
    if not record.phones:
        notes.append("no phone on the roster")
    await Escalation.filter(id=record.id).update(sms_sent=sent, note="; ".join(notes)[:300])
    log.info("escalation %s: %s SMS sent (%s)", record.key, sent, "; ".join(notes) or "ok")
