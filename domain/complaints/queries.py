"""Read side of complaints: the projections each audience may see, lists and the staff queue.

Privacy is enforced here, by construction: the citizen view is only built for the reporter, the
contractor and Open311 views never contain the reporter's openid, phone or name, and staff see the
phone (they call back for 回访) but only a masked openid.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from domain.accounts.rules import Principal, Role, mask_openid
from domain.alerts.bindings import sites_of
from domain.complaints.messages import ACTION_LABELS
from domain.complaints.models import Complaint, ComplaintEvent
from domain.complaints.rules import (
    AGENCY_NAMES,
    CLOCK_STOPPED_STATES,
    RATING_LABELS,
    STATE_LABELS,
    TERMINAL_STATES,
    Action,
    Rating,
    State,
    allowed_actions,
)
from domain.complaints.services import check_owner, check_staff_scope, default_policy, load
from domain.complaints.sla import SLA_LABELS, Policy, SlaStatus, sla_status
from domain.errors import NotFound, ValidationFailed

MAX_PAGE_SIZE = 100
QUEUE_SCAN_LIMIT = 5000
# What a citizen sees of the timeline: the steps, and the notes that are meant for them.
CITIZEN_NOTE_ACTIONS = frozenset(
    {
        Action.REPLY,
        Action.REFUSE,
        Action.RATE_SATISFIED,
        Action.RATE_DISSATISFIED,
        Action.REOPEN,
        Action.SUBMIT,
    }
)
CITIZEN_HIDDEN_ACTIONS = frozenset({Action.NOTE, Action.UPHOLD, Action.RETURN})


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value else None


def sla_of(complaint: Complaint, *, now: dt.datetime, policy: Policy) -> SlaStatus:
    answered = complaint.answered_at if complaint.state in CLOCK_STOPPED_STATES else None
    if complaint.state in TERMINAL_STATES and answered is None:
        answered = complaint.closed_at or complaint.updated_at
    return sla_status(
        started_at=complaint.sla_started_at,
        due_at=complaint.due_at,
        now=now,
        answered_at=answered,
        due_soon_fraction=policy.due_soon_fraction,
    )


def _base(complaint: Complaint, *, now: dt.datetime, policy: Policy) -> dict[str, Any]:
    nuisance = policy.nuisance_types.get(complaint.nuisance_type)
    sla = sla_of(complaint, now=now, policy=policy)
    return {
        "ticket_no": complaint.ticket_no,
        "state": complaint.state.value,
        "state_label": STATE_LABELS[complaint.state],
        "nuisance_type": complaint.nuisance_type,
        "nuisance_label": nuisance.label if nuisance else complaint.nuisance_type,
        "description": complaint.description,
        "address": complaint.address,
        "lat": complaint.lat,
        "lng": complaint.lng,
        "occurred_at": _iso(complaint.occurred_at),
        "created_at": _iso(complaint.created_at),
        "updated_at": _iso(complaint.updated_at),
        "due_at": _iso(complaint.due_at),
        "sla_status": sla.value,
        "sla_label": SLA_LABELS[sla],
        "site_code": complaint.site_code,
        "project_code": complaint.project_code,
        "town": complaint.town,
        "department": complaint.department,
        "agency": AGENCY_NAMES.get(complaint.department, complaint.department),
        "photos": list(complaint.photos),
        "last_reply": complaint.last_reply,
    }


def _entry(event: ComplaintEvent, *, for_citizen: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "action": event.action.value,
        "action_label": ACTION_LABELS.get(event.action.value, event.action.value),
        "from_state": event.from_state.value,
        "to_state": event.to_state.value,
        "at": _iso(event.at),
        "actor": event.actor.value,
    }
    if for_citizen:
        entry["note"] = event.note if event.action in CITIZEN_NOTE_ACTIONS else ""
    else:
        entry["actor_id"] = event.actor_id
        entry["note"] = event.note
    return entry


async def _timeline(complaint: Complaint, *, for_citizen: bool) -> list[dict[str, Any]]:
    events = await ComplaintEvent.filter(complaint_id=complaint.id).order_by("id")
    return [
        _entry(event, for_citizen=for_citizen)
        for event in events
        if not (for_citizen and event.action in CITIZEN_HIDDEN_ACTIONS)
    ]


async def citizen_view(
    complaint: Complaint, *, now: dt.datetime, policy: Policy | None = None
) -> dict[str, Any]:
    policy = policy or default_policy()
    view = _base(complaint, now=now, policy=policy)
    view["rating"] = complaint.rating
    view["rating_label"] = RATING_LABELS[Rating(complaint.rating)] if complaint.rating else ""
    view["can_rate"] = complaint.state in (State.REPLIED, State.FOLLOW_UP)
    recently_closed = (
        complaint.state is State.CLOSED
        and complaint.closed_at is not None
        and now - complaint.closed_at <= dt.timedelta(days=policy.reopen_days)
    )
    view["can_reopen"] = complaint.state in (State.REPLIED, State.FOLLOW_UP) or recently_closed
    view["timeline"] = await _timeline(complaint, for_citizen=True)
    return view


async def staff_view(
    complaint: Complaint, *, now: dt.datetime, policy: Policy | None = None
) -> dict[str, Any]:
    policy = policy or default_policy()
    view = _base(complaint, now=now, policy=policy)
    merged_into = (
        await Complaint.get_or_none(id=complaint.merged_into_id) if complaint.merged_into_id else None
    )
    candidates = (
        await Complaint.filter(id__in=list(complaint.merge_candidates or []))
        .exclude(state__in=list(TERMINAL_STATES))
        .values_list("ticket_no", flat=True)
    )
    view |= {
        "category": complaint.category,
        "channel": complaint.channel,
        "reporter": {
            "openid": mask_openid(complaint.reporter_openid) if complaint.reporter_openid else "",
            "phone": complaint.reporter_phone,
            "name": complaint.reporter_name,
        },
        "assignee_id": complaint.assignee_id,
        "contractor_uscc": complaint.contractor_uscc,
        "evidence": complaint.evidence,
        "upheld": complaint.upheld,
        "rating": complaint.rating,
        "merged_into": merged_into.ticket_no if merged_into else "",
        "merge_candidates": list(candidates),
        "allowed_actions": [action.value for action in allowed_actions(complaint.state)],
        "timeline": await _timeline(complaint, for_citizen=False),
    }
    return view


def contractor_view(
    complaint: Complaint, *, now: dt.datetime, policy: Policy | None = None
) -> dict[str, Any]:
    """For the contractor or site manager: what to fix and where, never who complained."""
    view = _base(complaint, now=now, policy=policy or default_policy())
    view.pop("last_reply")
    return view


async def get_for_citizen(ticket_no: str, *, openid: str, now: dt.datetime) -> dict[str, Any]:
    complaint = await load(ticket_no)
    check_owner(complaint, openid)
    return await citizen_view(complaint, now=now)


async def get_for_staff(ticket_no: str, *, principal: Principal, now: dt.datetime) -> dict[str, Any]:
    complaint = await load(ticket_no)
    check_staff_scope(complaint, principal)
    return await staff_view(complaint, now=now)


async def _contractor_scope(principal: Principal) -> Q | None:
    """Tickets an enterprise (as contractor) or a site manager (by site binding) may see; None: none."""
    if principal.role is Role.ENTERPRISE and principal.enterprise_uscc:
        return Q(contractor_uscc=principal.enterprise_uscc)
    if principal.role is Role.SITE_MANAGER and principal.openid:
        sites = await sites_of(principal.openid)
        return Q(site_code__in=sites) if sites else None
    return None


async def get_for_contractor(ticket_no: str, *, principal: Principal, now: dt.datetime) -> dict[str, Any]:
    complaint = await load(ticket_no)
    scope = await _contractor_scope(principal)
    if scope is None or not await Complaint.filter(scope, id=complaint.id).exists():
        raise NotFound("no such ticket", code="ticket_not_found")
    return contractor_view(complaint, now=now)


async def list_for_contractor(
    principal: Principal, *, now: dt.datetime, limit: int = 50
) -> list[dict[str, Any]]:
    scope = await _contractor_scope(principal)
    if scope is None:
        return []
    rows = await Complaint.filter(scope).order_by("-id").limit(limit)
    return [contractor_view(row, now=now) for row in rows]


async def list_mine(
    openid: str, *, now: dt.datetime, open_only: bool = False, limit: int = 50
) -> list[dict[str, Any]]:
    queryset = Complaint.filter(reporter_openid=openid)
    if open_only:
        queryset = queryset.exclude(state__in=list(TERMINAL_STATES))
    rows = await queryset.order_by("-id").limit(limit)
    return [await citizen_view(row, now=now) for row in rows]


@dataclass(frozen=True, slots=True)
class QueueFilter:
    state: State | None = None
    sla_status: SlaStatus | None = None
    town: str = ""
    nuisance_type: str = ""
    site_code: str = ""
    page: int = 1
    page_size: int = 20

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= MAX_PAGE_SIZE or not 1 <= self.page <= 10_000:
            raise ValidationFailed("page 1..10000, page_size 1..100", code="invalid_parameter")


RUNNING_SLA = frozenset({SlaStatus.ON_TIME, SlaStatus.DUE_SOON, SlaStatus.OVERDUE})
# Stopped clocks whose answer time may be missing (a reply recorded without one) still run.
_MAY_RUN_STOPPED = [State.REPLIED, State.FOLLOW_UP]


def _sla_candidates(
    queryset: QuerySet[Complaint], wanted: SlaStatus, *, now: dt.datetime
) -> QuerySet[Complaint]:
    """A superset of the tickets ``sla_of`` puts in ``wanted``, narrowed in SQL (a city's queue holds
    tens of thousands of closed tickets; an overdue filter must not read them)."""
    if wanted not in RUNNING_SLA:
        return queryset.filter(state__in=list(CLOCK_STOPPED_STATES))
    running = Q(state__not_in=list(CLOCK_STOPPED_STATES)) | Q(
        state__in=_MAY_RUN_STOPPED, answered_at__isnull=True
    )
    due = Q(due_at__lt=now) if wanted is SlaStatus.OVERDUE else Q(due_at__gte=now)
    return queryset.filter(running & due)


async def queue(principal: Principal, filters: QueueFilter, *, now: dt.datetime) -> dict[str, Any]:
    """The department's tickets (an admin's: everyone's), oldest deadline first. Without an SLA
    filter the database pages and counts; with one, the SQL-narrowed candidates are checked here."""
    policy = default_policy()
    queryset = Complaint.all()
    if principal.role is not Role.ADMIN:
        queryset = queryset.filter(department=principal.department or "-")
    if filters.state is not None:
        queryset = queryset.filter(state=filters.state)
    if filters.town:
        queryset = queryset.filter(town=filters.town)
    if filters.nuisance_type:
        queryset = queryset.filter(nuisance_type=filters.nuisance_type)
    if filters.site_code:
        queryset = queryset.filter(site_code=filters.site_code)
    start = (filters.page - 1) * filters.page_size
    wanted = filters.sla_status
    if wanted is None:
        total = await queryset.count()
        page = await queryset.order_by("due_at", "id").offset(start).limit(filters.page_size)
    else:
        candidates = (
            await _sla_candidates(queryset, wanted, now=now).order_by("due_at", "id").limit(QUEUE_SCAN_LIMIT)
        )
        rows = [row for row in candidates if sla_of(row, now=now, policy=policy) is wanted]
        total, page = len(rows), rows[start : start + filters.page_size]
    items = []
    for row in page:
        item = _base(row, now=now, policy=policy)
        item["assignee_id"] = row.assignee_id
        item["merge_candidates"] = len(row.merge_candidates or [])
        items.append(item)
    return {"items": items, "total": total, "page": filters.page, "page_size": filters.page_size}


async def project_counts(project_code: str) -> dict[str, int]:
    """Public: how many complaints a project received and how many are handled (counts only)."""
    queryset = Complaint.filter(project_code=project_code)  # indexed: the public page asks at every visit
    total = await queryset.count()
    handled = await queryset.filter(state__in=list(TERMINAL_STATES)).count()
    return {"total": total, "handled": handled, "open": total - handled}
