"""SLA reminders: a periodic job tells the handler (or, with nobody assigned, the department's staff)
when a ticket is due soon and again when it is overdue. Each reminder is sent once per deadline."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from domain.accounts.models import Account
from domain.accounts.services import openids_of_departments
from domain.complaints import notify
from domain.complaints.models import Complaint
from domain.complaints.queries import sla_of
from domain.complaints.rules import CLOCK_STOPPED_STATES
from domain.complaints.services import default_policy
from domain.complaints.sla import SlaStatus

log = logging.getLogger(__name__)

# Only tickets whose deadline is this close can be due soon (25% of a 13-working-day clock is < 8 days).
HORIZON = dt.timedelta(days=10)
DEFAULT_INTERVAL_S = 60.0


async def _recipients(complaint: Complaint) -> list[str]:
    if complaint.assignee_id.isdigit():
        openid = await Account.filter(id=int(complaint.assignee_id), active=True).values_list(
            "openid", flat=True
        )
        if openid and openid[0]:
            return [str(openid[0])]
    return (await openids_of_departments([complaint.department]))[complaint.department]


async def send_sla_reminders(now: dt.datetime) -> int:
    """One pass: enqueue the due-soon and overdue reminders not yet sent; returns how many were queued."""
    policy = default_policy()
    candidates = await Complaint.filter(due_at__lte=now + HORIZON).exclude(
        state__in=list(CLOCK_STOPPED_STATES)
    )
    queued = 0
    for complaint in candidates:
        status = sla_of(complaint, now=now, policy=policy)
        if status not in (SlaStatus.DUE_SOON, SlaStatus.OVERDUE):
            continue
        key = f"{status.value}:{complaint.due_at.isoformat()}"
        if key in (complaint.reminders_sent or []):
            continue
        nuisance = policy.nuisance_types.get(complaint.nuisance_type)
        label = nuisance.label if nuisance else complaint.nuisance_type
        recipients = await _recipients(complaint)
        for openid in recipients:
            await notify.sla_reminder(
                complaint, recipient_openid=openid, kind=status.value, nuisance_label=label, now=now
            )
            queued += 1
        if not recipients:
            log.warning(
                "ticket %s is %s but its department %s has nobody to remind",
                complaint.ticket_no,
                status.value,
                complaint.department or "-",
            )
        await Complaint.filter(id=complaint.id).update(
            reminders_sent=[*(complaint.reminders_sent or []), key]
        )
    return queued


async def run_sla_reminders(interval_s: float = DEFAULT_INTERVAL_S) -> None:
    """The embedded worker: one pass per interval until cancelled; a failed pass is logged and retried."""
    while True:
        try:
            await send_sla_reminders(dt.datetime.now(dt.UTC))
        except asyncio.CancelledError:
            raise
        except Exception:
            # A database hiccup must not kill the worker for the life of the process; the next pass retries.
            log.exception("SLA reminder pass failed")
        await asyncio.sleep(interval_s)
