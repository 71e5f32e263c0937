"""What the complaints context tells people, always through the outbox (channel policy and retries
live there). Idempotency keys are derived from the ticket and the step, so a retried request never
sends a message twice."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from domain.complaints import messages
from domain.complaints.models import Complaint
from domain.complaints.rules import Rating
from domain.notifications.rules import TemplateContent
from domain.notifications.services import enqueue

SHANGHAI = ZoneInfo("Asia/Shanghai")
CATEGORY = "complaint"
REPLY_TEMPLATE = "complaint_reply"
REMINDER_TEMPLATE = "reminder"


def local_time(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _reply_template(ticket_no: str, text: str, at: dt.datetime) -> TemplateContent:
    # Template "thing" values are limited to 20 characters; the full text goes in the custom message.
    return TemplateContent(
        REPLY_TEMPLATE,
        {"character_string1": ticket_no, "thing2": text[:20], "time3": local_time(at)},
    )


async def replied(
    complaint: Complaint, *, now: dt.datetime, merged_into: str = "", text: str = "", sequence: int = 0
) -> int | None:
    if not complaint.reporter_openid:
        return None
    reply_text = text or complaint.last_reply
    if merged_into:
        body = messages.REPLY_MERGED.format(ticket_no=complaint.ticket_no, reply=reply_text)
        key = f"complaint:{complaint.id}:merged-reply:{merged_into}:{sequence}"
    else:
        body = messages.REPLY.format(ticket_no=complaint.ticket_no, reply=reply_text)
        key = f"complaint:{complaint.id}:reply:{complaint.reply_count}"
    return await enqueue(
        recipient_openid=complaint.reporter_openid,
        text=body,
        idempotency_key=key,
        category=CATEGORY,
        template=_reply_template(complaint.ticket_no, reply_text, now),
        now=now,
    )


async def refused(complaint: Complaint, *, reason: str, now: dt.datetime) -> int | None:
    if not complaint.reporter_openid:
        return None
    return await enqueue(
        recipient_openid=complaint.reporter_openid,
        text=messages.REFUSED.format(ticket_no=complaint.ticket_no, reason=reason),
        idempotency_key=f"complaint:{complaint.id}:refused",
        category=CATEGORY,
        template=_reply_template(complaint.ticket_no, reason, now),
        now=now,
    )


async def rated(complaint: Complaint, *, now: dt.datetime) -> int | None:
    if not complaint.reporter_openid:
        return None
    dissatisfied = complaint.rating == Rating.DISSATISFIED.value
    template = messages.REOPENED if dissatisfied else messages.CLOSED_THANKS
    return await enqueue(
        recipient_openid=complaint.reporter_openid,
        text=template.format(ticket_no=complaint.ticket_no),
        idempotency_key=f"complaint:{complaint.id}:rated:{complaint.reply_count}:{complaint.rating}",
        category=CATEGORY,
        now=now,
    )


async def sla_reminder(
    complaint: Complaint, *, recipient_openid: str, kind: str, nuisance_label: str, now: dt.datetime
) -> int:
    template = messages.SLA_OVERDUE if kind == "overdue" else messages.SLA_DUE_SOON
    text = template.format(
        ticket_no=complaint.ticket_no, nuisance=nuisance_label, due=local_time(complaint.due_at)
    )
    return await enqueue(
        recipient_openid=recipient_openid,
        text=text,
        idempotency_key=f"complaint:{complaint.id}:sla:{kind}:{complaint.due_at.isoformat()}:{recipient_openid}",
        category="complaint_sla",
        template=TemplateContent(
            REMINDER_TEMPLATE,
            {
                "character_string1": complaint.ticket_no,
                "thing2": text[:20],
                "time3": local_time(complaint.due_at),
            },
        ),
        now=now,
    )


async def site_contact(
    complaint: Complaint, *, recipient_openid: str, nuisance_label: str, now: dt.datetime
) -> int:
    """The site's bound managers hear what and where, never who complained."""
    return await enqueue(
        recipient_openid=recipient_openid,
        text=messages.NEW_TICKET_FOR_SITE.format(
            site_code=complaint.site_code, nuisance=nuisance_label, ticket_no=complaint.ticket_no
        ),
        idempotency_key=f"complaint:{complaint.id}:site:{recipient_openid}",
        category="complaint_site",
        now=now,
    )
