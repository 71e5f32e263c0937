"""Telling people about alarms: bound site managers through the outbox (new alarms and severity rises
at once, repeats as one digest per cooldown) and the duty staff when a major alarm goes
unacknowledged."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from domain.accounts.rules import mask_openid
from domain.alerts import messages
from domain.alerts.models import Alarm, AlarmEvent, SiteBinding
from domain.alerts.rules import AlarmState, Severity, escalation_due, notification_due
from domain.notifications import escalation
from domain.notifications import policy as notice_policy
from domain.notifications.rules import TemplateContent, responsible_department

log = logging.getLogger(__name__)
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
NOTIFY_COOLDOWN = dt.timedelta(minutes=10)


def _local_time(at: dt.datetime) -> str:
    return at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


async def bound_openids(site_code: str) -> list[str]:
    rows = await SiteBinding.filter(site_code=site_code).values_list("openid", flat=True)
    return [str(row) for row in rows]


async def notify_managers(alarm: Alarm, *, created: bool, severity_rose: bool, now: dt.datetime) -> None:
    pending = alarm.update_count - alarm.notified_update_count
    decision = notification_due(
        created=created,
        severity_rose=severity_rose,
        notified_at=alarm.notified_at,
        pending_updates=pending,
        now=now,
        cooldown=NOTIFY_COOLDOWN,
    )
    if not decision.send:
        return
    recipients = await bound_openids(alarm.site_code)
    if not recipients:
        return  # nobody bound yet: the first manager to bind sees it in the list
    # Claim this notification round atomically: of two concurrent raises or updates only one sends.
    # The round is what this caller saw: the count and the time of the last notification. The time
    # matters for the first round, where the creator and an update both see count 0 and no notice.
    round_seen = Alarm.filter(id=alarm.id, notified_update_count=alarm.notified_update_count)
    if alarm.notified_at is None:
        round_seen = round_seen.filter(notified_at__isnull=True)
    else:
        round_seen = round_seen.filter(notified_at=alarm.notified_at)
    claimed = await round_seen.update(notified_at=now, notified_update_count=alarm.update_count)
    if not claimed:
        return
    text, template = _compose(alarm, pending=pending, digest=decision.digest)
    for openid in recipients:
        # The per-recipient policy (notifications context) may hold it back for a digest.
        sent = await notice_policy.enqueue_alarm_notice(
            recipient_openid=openid,
            site_code=alarm.site_code,
            rule=alarm.alarm_type,
            major=alarm.severity in (Severity.MAJOR, Severity.CRITICAL),
            text=text,
            template=template,
            now=now,
            idempotency_key=f"alarm:{alarm.id}:{alarm.update_count}:{openid}",
        )
        log.info("alarm %s to %s: %s", alarm.id, mask_openid(openid), "queued" if sent else "held back")
    await AlarmEvent.create(
        alarm_id=alarm.id, kind="notified", at=now, note="digest" if decision.digest else ""
    )


def _compose(alarm: Alarm, *, pending: int, digest: bool) -> tuple[str, TemplateContent]:
    """The text (a custom message, or the digest of ``pending`` repeats) and the template form."""
    value, limit = messages.template_figures(alarm.alarm_type, value=alarm.value, limit=alarm.limit)
    fields = {
        "severity": messages.SEVERITY_LABELS.get(alarm.severity.value, alarm.severity.value),
        "site": alarm.site_code,
        "label": messages.label_of(alarm.alarm_type),
        "value": value,
        "limit": limit,
        "detail": alarm.message,  # plain Chinese, written by ``services.raise_alarm``
        "time": _local_time(alarm.last_seen_at),
        "count": str(pending),
    }
    text = (messages.DIGEST_TEXT if digest else messages.ALARM_TEXT).format(**fields)
    template = TemplateContent(
        template_key="alarm",
        data={
            "site": fields["site"],
            "alarm_type": fields["label"],
            "value": fields["value"],
            "limit": fields["limit"],
            "detail": alarm.brief or fields["label"],
            "time": fields["time"],
            "severity": fields["severity"],
        },
        url=f"/pages/alerts/detail?id={alarm.id}",
    )
    return text, template


async def duty_openids(configured: list[str]) -> list[str]:
    """Who stands in while no duty roster exists: the configured admins only. Escalations go to the
    responsible department's roster (``domain.notifications.escalation``), never to every staff
    account (police, health and fire included)."""
    return list(configured)


async def escalate_due(*, now: dt.datetime, after: dt.timedelta, duty_openids: list[str]) -> list[int]:
    """Escalate unacknowledged major alarms to the responsible department's duty roster, once each."""
    candidates = await Alarm.filter(
        state=AlarmState.RAISED,
        escalated_at__isnull=True,
        severity__in=[Severity.MAJOR, Severity.CRITICAL],
        raised_at__lte=now - after,
    )
    escalated: list[int] = []
    for alarm in candidates:
        if not escalation_due(
            severity=alarm.severity,
            state=alarm.state,
            raised_at=alarm.raised_at,
            escalated_at=alarm.escalated_at,
            now=now,
            after=after,
        ):
            continue
        if not await Alarm.filter(id=alarm.id, escalated_at__isnull=True).update(escalated_at=now):
            continue
        request = _escalation_request(alarm, minutes=int(after.total_seconds() // 60))
        await escalation.escalate(request, now=now, fallback_openids=duty_openids)
        await AlarmEvent.create(alarm_id=alarm.id, kind="escalated", at=now, note=request.department)
        escalated.append(alarm.id)
    return escalated


def _escalation_request(alarm: Alarm, *, minutes: int) -> escalation.EscalationRequest:
    label = messages.label_of(alarm.alarm_type)
    text = messages.ESCALATION_TEXT.format(
        site=alarm.site_code, label=label, minutes=minutes, alarm_id=alarm.id
    )
    data = {
        "site": alarm.site_code,
        "alarm_type": label,
        "alarm_id": str(alarm.id),
        "time": _local_time(alarm.raised_at),
    }
    return escalation.EscalationRequest(
        key=f"alarm-escalation:{alarm.id}",
        department=responsible_department(alarm.alarm_type),
        text=text,
        template=TemplateContent("alarm_escalation", data, url=f"/pages/alerts/detail?id={alarm.id}"),
        sms_params={"site": alarm.site_code, "alarm": label},
    )
