"""Intake of complaints: validate, number (TS + Shanghai date + daily sequence, atomically), route to
a site and department, attach evidence (night-work permit, monitor readings), look for duplicates and
tell the site's bound managers (never who complained)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from domain.alerts.readings import site_summary
from domain.alerts.services import bound_openids
from domain.calendar.rules import WorkingCalendar
from domain.complaints import notify
from domain.complaints.models import Complaint
from domain.complaints.routing import Routing, route
from domain.complaints.rules import (
    Action,
    Actor,
    State,
    TicketPoint,
    format_ticket_no,
    is_duplicate,
    ticket_day,
    transition,
)
from domain.complaints.services import append_event, default_calendar, default_policy
from domain.complaints.sla import Policy, sla_due
from domain.errors import ValidationFailed
from domain.permits.services import active_night_permit

log = logging.getLogger(__name__)

MAX_PHOTOS = 9
MAX_DESCRIPTION = 1000
CHANNELS = frozenset({"wechat", "miniprogram", "open311"})


@dataclass(frozen=True, slots=True)
class NewComplaint:
    """What a citizen (or an Open311 client) files; coordinates are WGS-84."""

    nuisance_type: str
    description: str
    channel: str
    reporter_openid: str = ""
    reporter_phone: str = ""
    reporter_name: str = ""
    address: str = ""
    lat: float | None = None
    lng: float | None = None
    occurred_at: dt.datetime | None = None
    photos: tuple[str, ...] = field(default_factory=tuple)
    external_media_url: str = ""

    def check(self, *, policy: Policy, now: dt.datetime) -> None:
        problems: list[str] = []
        if self.nuisance_type not in policy.nuisance_types:
            problems.append(f"nuisance_type must be one of {', '.join(policy.nuisance_types)}")
        if not self.description.strip() and not self.photos:
            problems.append("describe the problem or attach a photo")
        if len(self.description) > MAX_DESCRIPTION:
            problems.append(f"description is limited to {MAX_DESCRIPTION} characters")
        if len(self.address) > 200:
            problems.append("address is limited to 200 characters")
        if (self.lat is None) != (self.lng is None):
            problems.append("give both lat and lng, or neither")
        if self.lat is None and not self.address.strip():
            problems.append("give a location or an address")
        if len(self.photos) > MAX_PHOTOS:
            problems.append(f"at most {MAX_PHOTOS} photos")
        if self.channel not in CHANNELS:
            problems.append("unknown channel")
        if self.occurred_at is not None and self.occurred_at > now + dt.timedelta(minutes=10):
            problems.append("occurred_at is in the future")
        if problems:
            raise ValidationFailed("; ".join(problems), code="invalid_complaint", problems=problems)


_NEXT_SEQ = (
    "INSERT INTO complaint_ticket_counter (day, last_seq) VALUES ({}, 1) ON CONFLICT (day) DO UPDATE SET "
    "last_seq = complaint_ticket_counter.last_seq + 1 RETURNING last_seq"
)
_NEXT_SEQ_PG = _NEXT_SEQ.format("$1")
_NEXT_SEQ_SQLITE = _NEXT_SEQ.format("?")


async def _next_seq(connection: BaseDBAsyncClient, day: str) -> int:
    """Bump the day's counter in one statement (an upsert), atomic on SQLite and PostgreSQL."""
    sql = _NEXT_SEQ_PG if connection.capabilities.dialect == "postgres" else _NEXT_SEQ_SQLITE
    rows = await connection.execute_query_dict(sql, [day])
    return int(rows[0]["last_seq"])


async def _evidence(routing: Routing, new: NewComplaint, *, now: dt.datetime) -> dict[str, Any]:
    evidence: dict[str, Any] = {}
    if routing.site_code:
        at = new.occurred_at or now
        evidence["night_permit"] = await active_night_permit(routing.site_code, at)
        evidence["permit_checked_at"] = at.astimezone(dt.UTC).isoformat()
        # The site's monitors over the hour before the nuisance (valid readings only).
        summary = await site_summary(routing.site_code, now=at)
        evidence["monitors"] = {
            key: summary.get(key) for key in ("pm10_1h", "pm25_1h", "noise_leq_1h", "as_of")
        }
    if new.external_media_url:
        evidence["external_media_url"] = new.external_media_url
    return evidence


async def _find_duplicates(complaint: Complaint, *, policy: Policy) -> list[int]:
    if not complaint.site_code:
        return []
    since = complaint.created_at - policy.duplicate_window
    earlier = await Complaint.filter(
        site_code=complaint.site_code,
        nuisance_type=complaint.nuisance_type,
        created_at__gte=since,
        id__lt=complaint.id,
        merged_into_id__isnull=True,
    ).exclude(state__in=[State.MERGED, State.NOT_ACCEPTED, State.CLOSED])
    new_point = _point(complaint)
    return [
        other.id
        for other in earlier
        if is_duplicate(
            new_point, _point(other), window=policy.duplicate_window, distance_m=policy.duplicate_distance_m
        )
    ]


def _point(complaint: Complaint) -> TicketPoint:
    return TicketPoint(
        complaint.id,
        complaint.site_code,
        complaint.nuisance_type,
        complaint.created_at,
        complaint.lat,
        complaint.lng,
    )


async def submit(
    new: NewComplaint,
    *,
    now: dt.datetime,
    policy: Policy | None = None,
    calendar: WorkingCalendar | None = None,
) -> Complaint:
    """File a ticket: number it, route it to a site and department, check duplicates, attach evidence."""
    policy = policy or default_policy()
    calendar = calendar or default_calendar()
    new.check(policy=policy, now=now)
    category = policy.category_of(new.nuisance_type)
    nuisance_label = policy.nuisance(new.nuisance_type).label
    routing = await route(new.nuisance_type, lat=new.lat, lng=new.lng, address=new.address, policy=policy)
    evidence = await _evidence(routing, new, now=now)
    due = sla_due(policy.clock_category(category.name, start=now), start=now, calendar=calendar)
    async with in_transaction() as connection:
        complaint = await _create_ticket(
            connection, new, routing=routing, category=category.name, evidence=evidence, due=due, now=now
        )
        await _record_intake(connection, complaint, channel=new.channel, routing=routing, now=now)
        # The site managers' notices are outbox rows: written with the ticket, so a crash after the
        # commit cannot leave a filed ticket that nobody was told about.
        await _notify_site(complaint, routing=routing, nuisance_label=nuisance_label, now=now)
    await _flag_duplicates(complaint, policy=policy)
    log.info(
        "complaint %s filed via %s, routed to %s/%s",
        complaint.ticket_no,
        new.channel,
        routing.department or "-",
        routing.site_code or routing.town or "-",
    )
    return complaint


async def _create_ticket(
    connection: BaseDBAsyncClient,
    new: NewComplaint,
    *,
    routing: Routing,
    category: str,
    evidence: dict[str, Any],
    due: dt.datetime,
    now: dt.datetime,
) -> Complaint:
    """Number the ticket from the day's counter and store it, inside the caller's transaction."""
    seq = await _next_seq(connection, ticket_day(now))
    return await Complaint.create(
        ticket_no=format_ticket_no(ticket_day(now), seq),
        nuisance_type=new.nuisance_type,
        category=category,
        description=new.description.strip(),
        address=new.address.strip(),
        lat=new.lat,
        lng=new.lng,
        occurred_at=new.occurred_at,
        channel=new.channel,
        reporter_openid=new.reporter_openid,
        reporter_phone=new.reporter_phone,
        reporter_name=new.reporter_name,
        site_code=routing.site_code,
        project_code=routing.project_code,
        contractor_uscc=routing.contractor_uscc,
        town=routing.town,
        department=routing.department,
        photos=list(new.photos),
        evidence=evidence,
        sla_started_at=now,
        due_at=due,
        created_at=now,
        updated_at=now,
        using_db=connection,
    )


async def _record_intake(
    connection: BaseDBAsyncClient, complaint: Complaint, *, channel: str, routing: Routing, now: dt.datetime
) -> None:
    """The submit event, and the automatic dispatch when routing found a department."""
    actor = Actor.CITIZEN if channel != "open311" else Actor.SYSTEM
    submitted = transition(State.SUBMITTED, Action.SUBMIT, actor=actor, actor_id=channel, at=now)
    await append_event(connection, complaint.id, submitted)
    if not routing.department:
        return
    dispatched = transition(
        State.SUBMITTED,
        Action.DISPATCH,
        actor=Actor.SYSTEM,
        actor_id="auto-dispatch",
        at=now,
        note=routing.explanation,
    )
    await append_event(connection, complaint.id, dispatched)
    complaint.state = State.DISPATCHED
    await complaint.save(update_fields=["state"], using_db=connection)


async def _notify_site(
    complaint: Complaint, *, routing: Routing, nuisance_label: str, now: dt.datetime
) -> None:
    """Tell the site's bound managers about the new ticket (the notice never names who complained)."""
    if not routing.site_code:
        return
    for openid in await bound_openids(routing.site_code):
        await notify.site_contact(complaint, recipient_openid=openid, nuisance_label=nuisance_label, now=now)


async def _flag_duplicates(complaint: Complaint, *, policy: Policy) -> None:
    duplicates = await _find_duplicates(complaint, policy=policy)
    if duplicates:
        complaint.merge_candidates = duplicates
        await complaint.save(update_fields=["merge_candidates"])
