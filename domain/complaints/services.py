"""Complaint use cases after intake (``domain.complaints.intake``): staff handling, replies, merges,
upholding, and the citizen's rating and reopening.

Every state change is one conditional UPDATE on (id, state), so two staff pressing buttons at once
cannot both win; the timeline line is written in the same transaction. Reads and projections are in
``domain.complaints.queries``; outbound messages in ``domain.complaints.notify``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from domain import policies
from domain.accounts.rules import Principal, Role
from domain.calendar.rules import WorkingCalendar
from domain.complaints import notify
from domain.complaints.events import COMPLAINT_RECORDED, COMPLAINT_UPHELD
from domain.complaints.models import Complaint, ComplaintEvent
from domain.complaints.rules import (
    CLOCK_STOPPED_STATES,
    Action,
    Actor,
    Rating,
    State,
    TimelineEntry,
    parse_ticket_no,
    rating_action,
    transition,
)
from domain.complaints.sla import Policy, sla_due
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.events import DomainEvent
from domain.outbox import services as outbox

log = logging.getLogger(__name__)

MAX_PHOTOS = 9


def default_policy() -> Policy:
    """The deployed ``config/complaints.yml``."""
    return policies.current().complaints


def default_calendar() -> WorkingCalendar:
    """The deployed working-day calendar (``config/calendar_overrides.yml``)."""
    return policies.current().calendar


def actor_of(principal: Principal) -> tuple[Actor, str]:
    """The timeline never stores an openid: citizens appear as 'citizen', staff by account id."""
    if principal.is_staff():
        return Actor.STAFF, principal.subject
    return Actor.CITIZEN, "citizen"


async def append_event(connection: BaseDBAsyncClient, complaint_id: int, entry: TimelineEntry) -> None:
    await ComplaintEvent.create(
        complaint_id=complaint_id,
        action=entry.action,
        from_state=entry.from_state,
        to_state=entry.to_state,
        actor=entry.actor,
        actor_id=entry.actor_id,
        note=entry.note[:2000],
        at=entry.at,
        using_db=connection,
    )


# --- transitions ----------------------------------------------------------------------------------


async def load(ticket_no: str) -> Complaint:
    complaint = await Complaint.get_or_none(ticket_no=parse_ticket_no(ticket_no))
    if complaint is None:
        raise NotFound("no such ticket", code="ticket_not_found")
    return complaint


def check_staff_scope(complaint: Complaint, principal: Principal) -> None:
    """Staff act only on their department's tickets (admins on all); others look like 404s."""
    if principal.role is Role.ADMIN:
        return
    if not principal.is_staff() or complaint.department != principal.department:
        raise NotFound("no such ticket", code="ticket_not_found")


def check_owner(complaint: Complaint, openid: str) -> None:
    if not openid or complaint.reporter_openid != openid:
        raise NotFound("no such ticket", code="ticket_not_found")


# The steps a citizen may dispute later: each becomes an evidence leaf (domain/evidence/rules.py).
EVIDENCE_ACTIONS = frozenset(
    {
        Action.REPLY,
        Action.CLOSE,
        Action.REFUSE,
        Action.RATE_SATISFIED,
        Action.RATE_DISSATISFIED,
        Action.REOPEN,
    }
)


def _recorded(complaint: Complaint, entry: TimelineEntry) -> DomainEvent:
    payload = {
        "ticket_id": complaint.ticket_no,
        "action": str(entry.action),
        "state": str(entry.to_state),
        "actor_role": str(entry.actor),
        "actor_id": entry.actor_id,
        "note_sha256": hashlib.sha256(entry.note[:2000].encode()).hexdigest(),
        "at": entry.at.astimezone(dt.UTC).isoformat(),
    }
    # Stable per step: the optimistic state check already refuses a replayed transition.
    event_id = f"complaint-{complaint.ticket_no}-{entry.action}-{entry.at.timestamp():.6f}"
    return DomainEvent(COMPLAINT_RECORDED, payload, event_id=event_id)


async def apply(
    complaint: Complaint,
    action: Action,
    *,
    actor: Actor,
    actor_id: str,
    now: dt.datetime,
    note: str = "",
    changes: dict[str, Any] | None = None,
) -> Complaint:
    """Run one transition: check it, write state and changes only if nobody moved the ticket meanwhile."""
    entry = transition(complaint.state, action, actor=actor, actor_id=actor_id, at=now, note=note)
    values: dict[str, Any] = {"state": entry.to_state, "updated_at": now, **(changes or {})}
    async with in_transaction() as connection:
        updated = (
            await Complaint.filter(id=complaint.id, state=complaint.state)
            .using_db(connection)
            .update(**values)
        )
        if not updated:
            raise Conflict("the ticket changed meanwhile; reload it", code="ticket_changed")
        await append_event(connection, complaint.id, entry)
        if action in EVIDENCE_ACTIONS:  # in the same transaction: a committed step is logged once
            await outbox.append(
                _recorded(complaint, entry), aggregate=f"complaint:{complaint.ticket_no}", now=now
            )
    for name, value in values.items():
        setattr(complaint, name, value)
    return complaint


def _restart_clock(
    complaint: Complaint, *, now: dt.datetime, policy: Policy, calendar: WorkingCalendar
) -> dict[str, Any]:
    category = policy.clock_category(complaint.category, start=now)
    return {
        "sla_started_at": now,
        "due_at": sla_due(category, start=now, calendar=calendar),
        "answered_at": None,
        "reminders_sent": [],
        "closed_at": None,
        "rating": "",
    }


async def staff_act(
    ticket_no: str, action: Action, *, principal: Principal, now: dt.datetime, note: str = ""
) -> Complaint:
    """accept, start, note, return, close, refuse: the buttons with no extra data."""
    complaint = await load(ticket_no)
    check_staff_scope(complaint, principal)
    changes: dict[str, Any] = {}
    if action is Action.ACCEPT and not complaint.assignee_id:
        changes["assignee_id"] = principal.subject
    if action is Action.CLOSE or action is Action.REFUSE:
        changes["closed_at"] = now
    if action is Action.RETURN:
        changes["assignee_id"] = ""
    # The citizen's notice is written with the change (notifications are outbox rows).
    async with in_transaction():
        complaint = await apply(
            complaint,
            action,
            actor=Actor.STAFF,
            actor_id=principal.subject,
            now=now,
            note=note,
            changes=changes,
        )
        if action is Action.REFUSE:
            await notify.refused(complaint, reason=note, now=now)
    return complaint


async def assign(
    ticket_no: str,
    *,
    principal: Principal,
    now: dt.datetime,
    assignee_id: str = "",
    department: str = "",
    note: str = "",
) -> Complaint:
    """Dispatch or reassign (改派): to another department, or to a handler within this one."""
    complaint = await load(ticket_no)
    check_staff_scope(complaint, principal)
    target_department = department or complaint.department
    if not target_department:
        raise ValidationFailed("name the department to dispatch to", code="department_required")
    action = Action.DISPATCH if complaint.state in (State.SUBMITTED, State.RETURNED) else Action.REASSIGN
    changes = {"department": target_department, "assignee_id": assignee_id[:32]}
    note = note or f"→ {target_department}{'/' + assignee_id if assignee_id else ''}"
    return await apply(
        complaint, action, actor=Actor.STAFF, actor_id=principal.subject, now=now, note=note, changes=changes
    )


async def reply(ticket_no: str, *, principal: Principal, text: str, now: dt.datetime) -> Complaint:
    """Answer the citizen; merged duplicates get the same answer. Then ask for a rating (回访)."""
    complaint = await load(ticket_no)
    check_staff_scope(complaint, principal)
    text = text.strip()
    if not text or len(text) > 1000:
        raise ValidationFailed("a reply is 1-1000 characters", code="invalid_reply")
    # The answer, the rating request and the notices commit together or not at all.
    async with in_transaction():
        complaint = await apply(
            complaint,
            Action.REPLY,
            actor=Actor.STAFF,
            actor_id=principal.subject,
            now=now,
            note=text,
            changes={"last_reply": text, "reply_count": complaint.reply_count + 1, "answered_at": now},
        )
        await notify.replied(complaint, now=now)
        if complaint.reporter_openid:
            complaint = await apply(
                complaint, Action.ASK_RATING, actor=Actor.SYSTEM, actor_id="follow-up", now=now
            )
        for child in await Complaint.filter(merged_into_id=complaint.id):
            await ComplaintEvent.create(
                complaint_id=child.id,
                action=Action.NOTE,
                from_state=child.state,
                to_state=child.state,
                actor=Actor.STAFF,
                actor_id=principal.subject,
                note=text,
                at=now,
            )
            await Complaint.filter(id=child.id).update(last_reply=text, answered_at=now, updated_at=now)
            await notify.replied(
                child, now=now, merged_into=complaint.ticket_no, text=text, sequence=complaint.reply_count
            )
    return complaint


async def merge(
    ticket_no: str, *, into: str, principal: Principal, now: dt.datetime, note: str = ""
) -> Complaint:
    """并单: ``ticket_no`` becomes part of ``into``; its citizen hears the answer to ``into``."""
    child, parent = await load(ticket_no), await load(into)
    check_staff_scope(child, principal)
    check_staff_scope(parent, principal)
    if (
        child.id == parent.id
        or parent.merged_into_id is not None
        or parent.state in (State.MERGED, State.NOT_ACCEPTED, State.CLOSED)
    ):
        raise Conflict("merge into an open ticket that is not itself merged", code="invalid_merge_target")
    child = await apply(
        child,
        Action.MERGE,
        actor=Actor.STAFF,
        actor_id=principal.subject,
        now=now,
        note=note or f"并入 {parent.ticket_no}",
        changes={"merged_into_id": parent.id},
    )
    await ComplaintEvent.create(
        complaint_id=parent.id,
        action=Action.NOTE,
        from_state=parent.state,
        to_state=parent.state,
        actor=Actor.STAFF,
        actor_id=principal.subject,
        note=f"并入重复工单 {child.ticket_no}",
        at=now,
    )
    await Complaint.filter(merged_into_id=child.id).update(merged_into_id=parent.id)
    return child


async def uphold(ticket_no: str, *, principal: Principal, now: dt.datetime, note: str = "") -> Complaint:
    """Staff confirm a violation: recorded once, and ``ComplaintUpheld`` goes to the credit context.

    The event is written with the change, in one transaction: a crash after the commit cannot lose it
    (the relay publishes it later), and a retry stops at ``upheld`` without a second event."""
    complaint = await load(ticket_no)
    check_staff_scope(complaint, principal)
    if not complaint.site_code:
        raise ValidationFailed("only a ticket about a site can be upheld against it", code="no_site")
    if complaint.upheld:
        return complaint
    async with in_transaction():
        complaint = await apply(
            complaint,
            Action.UPHOLD,
            actor=Actor.STAFF,
            actor_id=principal.subject,
            now=now,
            note=note or "确认存在违规",
            changes={"upheld": True},
        )
        payload = {
            "ticket_id": complaint.ticket_no,
            "project_code": complaint.project_code,
            "site_code": complaint.site_code,
            "nuisance_type": complaint.nuisance_type,
            "upheld_by": principal.subject,
            "at": now.astimezone(dt.UTC).isoformat(),
        }
        # A stable event id: a retried request cannot give the credit context a second penalty.
        event = DomainEvent(COMPLAINT_UPHELD, payload, event_id=f"complaint-upheld-{complaint.ticket_no}")
        await outbox.append(event, aggregate=f"complaint:{complaint.ticket_no}", now=now)
    return complaint


# --- citizen --------------------------------------------------------------------------------------


async def rate(
    ticket_no: str,
    rating: Rating,
    *,
    openid: str,
    now: dt.datetime,
    policy: Policy | None = None,
    calendar: WorkingCalendar | None = None,
) -> Complaint:
    complaint = await load(ticket_no)
    check_owner(complaint, openid)
    action = rating_action(rating)
    changes: dict[str, Any] = {"rating": rating.value}
    if action is Action.RATE_SATISFIED:
        changes["closed_at"] = now
    else:
        changes = _restart_clock(
            complaint, now=now, policy=policy or default_policy(), calendar=calendar or default_calendar()
        ) | {"rating": rating.value}
    async with in_transaction():
        complaint = await apply(
            complaint,
            action,
            actor=Actor.CITIZEN,
            actor_id="citizen",
            now=now,
            note=rating.value,
            changes=changes,
        )
        await notify.rated(complaint, now=now)
    return complaint


async def reopen(
    ticket_no: str,
    *,
    openid: str,
    now: dt.datetime,
    note: str = "",
    policy: Policy | None = None,
    calendar: WorkingCalendar | None = None,
) -> Complaint:
    complaint = await load(ticket_no)
    check_owner(complaint, openid)
    policy = policy or default_policy()
    if complaint.state is State.CLOSED and (
        complaint.closed_at is None or now - complaint.closed_at > dt.timedelta(days=policy.reopen_days)
    ):
        raise Conflict(
            f"a closed ticket can be reopened within {policy.reopen_days} days", code="reopen_expired"
        )
    changes = _restart_clock(complaint, now=now, policy=policy, calendar=calendar or default_calendar())
    return await apply(
        complaint,
        Action.REOPEN,
        actor=Actor.CITIZEN,
        actor_id="citizen",
        now=now,
        note=note[:500],
        changes=changes,
    )


async def add_photos(ticket_no: str, refs: list[str], *, principal: Principal, now: dt.datetime) -> Complaint:
    """Photos are validated and stored by the caller first, so a bad upload never touches the ticket."""
    complaint = await load(ticket_no)
    if principal.is_staff():
        check_staff_scope(complaint, principal)
    else:
        check_owner(complaint, principal.openid)
    photos = [*complaint.photos, *(ref for ref in refs if ref not in complaint.photos)]
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed(f"a ticket holds at most {MAX_PHOTOS} photos", code="too_many_photos")
    actor, actor_id = actor_of(principal)
    return await apply(
        complaint,
        Action.ADD_PHOTO,
        actor=actor,
        actor_id=actor_id,
        now=now,
        note=f"{len(refs)} 张照片",
        changes={"photos": photos},
    )


async def awaiting_rating(openid: str) -> Complaint | None:
    """The citizen's most recently answered ticket that still waits for a rating (the bot asks it)."""
    return (
        await Complaint.filter(reporter_openid=openid, state__in=[State.REPLIED, State.FOLLOW_UP])
        .order_by("-answered_at", "-id")
        .first()
    )


def clock_running(complaint: Complaint) -> bool:
    return complaint.state not in CLOCK_STOPPED_STATES
