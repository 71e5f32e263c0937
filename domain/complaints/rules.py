"""Pure rules of citizen complaints (投诉): the 12345-style state machine, ticket numbers, SLA clocks,
duplicate detection and the policy read from ``config/complaints.yml``.

Nothing here touches the database or the clock: time is always an argument.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus
from zoneinfo import ZoneInfo

from domain.errors import Conflict, DomainError, ValidationFailed
from domain.geo import haversine_m

SHANGHAI = ZoneInfo("Asia/Shanghai")
TICKET_NO_RE = re.compile(r"^TS(\d{8})(\d{3,})$")


class State(StrEnum):
    SUBMITTED = "submitted"  # 受理
    DISPATCHED = "dispatched"  # 派单
    ACCEPTED = "accepted"  # 签收
    IN_PROGRESS = "in_progress"  # 办理
    REPLIED = "replied"  # 回复
    FOLLOW_UP = "follow_up"  # 回访
    CLOSED = "closed"  # 办结
    REOPENED = "reopened"  # 重办
    RETURNED = "returned"  # 退单
    MERGED = "merged"  # 并单
    NOT_ACCEPTED = "not_accepted"  # 不予受理


STATE_LABELS: dict[State, str] = {
    State.SUBMITTED: "已受理",
    State.DISPATCHED: "已派单",
    State.ACCEPTED: "已签收",
    State.IN_PROGRESS: "办理中",
    State.REPLIED: "已回复",
    State.FOLLOW_UP: "回访中",
    State.CLOSED: "已办结",
    State.REOPENED: "重新办理",
    State.RETURNED: "已退单",
    State.MERGED: "已并单",
    State.NOT_ACCEPTED: "不予受理",
}

TERMINAL_STATES = frozenset({State.CLOSED, State.MERGED, State.NOT_ACCEPTED})
# The SLA clock stops when the citizen has an answer; a reopen starts a new clock.
CLOCK_STOPPED_STATES = frozenset({State.REPLIED, State.FOLLOW_UP, *TERMINAL_STATES})


class Action(StrEnum):
    SUBMIT = "submit"  # the ticket is created (first timeline line)
    DISPATCH = "dispatch"  # 派单 (auto or by a dispatcher)
    REASSIGN = "reassign"  # 改派
    RETURN = "return"  # 退单: the handler says it is not theirs
    ACCEPT = "accept"  # 签收
    START = "start"  # 开始办理
    NOTE = "note"  # 备注 (no state change)
    REPLY = "reply"  # 答复
    ASK_RATING = "ask_rating"  # 回访: the citizen is asked for a rating
    RATE_SATISFIED = "rate_satisfied"
    RATE_DISSATISFIED = "rate_dissatisfied"
    REOPEN = "reopen"
    CLOSE = "close"
    REFUSE = "refuse"  # 不予受理
    MERGE = "merge"  # 并单 into another ticket
    UPHOLD = "uphold"  # staff confirm a violation (no state change)
    ADD_PHOTO = "add_photo"  # evidence added (no state change)


class Actor(StrEnum):
    CITIZEN = "citizen"
    STAFF = "staff"
    SYSTEM = "system"


_HANDLING = (State.ACCEPTED, State.IN_PROGRESS, State.REOPENED)
_OPEN = (State.SUBMITTED, State.DISPATCHED, State.RETURNED, State.ACCEPTED, State.IN_PROGRESS, State.REOPENED)
_ANSWERED = (State.REPLIED, State.FOLLOW_UP)

# The state machine. (from state, action) -> to state. Anything not listed is refused.
TRANSITIONS: dict[tuple[State, Action], State] = {
    (State.SUBMITTED, Action.DISPATCH): State.DISPATCHED,
    (State.RETURNED, Action.DISPATCH): State.DISPATCHED,
    **{(state, Action.REASSIGN): State.DISPATCHED for state in _OPEN},
    (State.DISPATCHED, Action.RETURN): State.RETURNED,
    (State.ACCEPTED, Action.RETURN): State.RETURNED,
    (State.DISPATCHED, Action.ACCEPT): State.ACCEPTED,
    (State.REOPENED, Action.ACCEPT): State.ACCEPTED,
    (State.ACCEPTED, Action.START): State.IN_PROGRESS,
    (State.REOPENED, Action.START): State.IN_PROGRESS,
    **{(state, Action.REPLY): State.REPLIED for state in _HANDLING},
    (State.REPLIED, Action.ASK_RATING): State.FOLLOW_UP,
    **{(state, Action.RATE_SATISFIED): State.CLOSED for state in _ANSWERED},
    **{(state, Action.RATE_DISSATISFIED): State.REOPENED for state in _ANSWERED},
    **{(state, Action.REOPEN): State.REOPENED for state in (*_ANSWERED, State.CLOSED)},
    **{(state, Action.CLOSE): State.CLOSED for state in _ANSWERED},
    **{
        (state, Action.REFUSE): State.NOT_ACCEPTED
        for state in (State.SUBMITTED, State.DISPATCHED, State.RETURNED, State.ACCEPTED)
    },
    **{
        (state, Action.MERGE): State.MERGED
        for state in (State.SUBMITTED, State.DISPATCHED, State.RETURNED, State.ACCEPTED, State.IN_PROGRESS)
    },
}

# Actions that only write the timeline: allowed in these states, the state stays.
NOTE_ACTIONS: dict[Action, frozenset[State]] = {
    Action.SUBMIT: frozenset({State.SUBMITTED}),
    Action.NOTE: frozenset(State) - {State.MERGED},
    Action.UPHOLD: frozenset({State.ACCEPTED, State.IN_PROGRESS, State.REOPENED, *_ANSWERED, State.CLOSED}),
    Action.ADD_PHOTO: frozenset(_OPEN),
}

# Who may take each action.
ACTORS: dict[Action, frozenset[Actor]] = {
    Action.SUBMIT: frozenset({Actor.CITIZEN, Actor.SYSTEM}),
    Action.DISPATCH: frozenset({Actor.SYSTEM, Actor.STAFF}),
    Action.REASSIGN: frozenset({Actor.STAFF}),
    Action.RETURN: frozenset({Actor.STAFF}),
    Action.ACCEPT: frozenset({Actor.STAFF}),
    Action.START: frozenset({Actor.STAFF}),
    Action.NOTE: frozenset({Actor.STAFF}),
    Action.REPLY: frozenset({Actor.STAFF}),
    Action.ASK_RATING: frozenset({Actor.SYSTEM}),
    Action.RATE_SATISFIED: frozenset({Actor.CITIZEN}),
    Action.RATE_DISSATISFIED: frozenset({Actor.CITIZEN}),
    Action.REOPEN: frozenset({Actor.CITIZEN, Actor.STAFF}),
    Action.CLOSE: frozenset({Actor.STAFF, Actor.SYSTEM}),
    Action.REFUSE: frozenset({Actor.STAFF}),
    Action.MERGE: frozenset({Actor.STAFF}),
    Action.UPHOLD: frozenset({Actor.STAFF}),
    Action.ADD_PHOTO: frozenset({Actor.CITIZEN, Actor.STAFF}),
}

# Actions whose note is mandatory (a reason the citizen or the auditor will read).
NOTE_REQUIRED = frozenset({Action.RETURN, Action.REPLY, Action.REFUSE, Action.NOTE})


class InvalidTransition(Conflict):
    code = "invalid_transition"


class ActorNotAllowed(DomainError):
    code = "action_not_allowed"
    status = HTTPStatus.FORBIDDEN


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of a ticket's history: who did what, when, and why."""

    action: Action
    from_state: State
    to_state: State
    actor: Actor
    actor_id: str
    at: dt.datetime
    note: str


def next_state(state: State, action: Action) -> State:
    if action in NOTE_ACTIONS:
        if state not in NOTE_ACTIONS[action]:
            raise InvalidTransition(f"cannot {action.value} a ticket that is {state.value}")
        return state
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise InvalidTransition(f"cannot {action.value} a ticket that is {state.value}")
    return target


def transition(
    state: State, action: Action, *, actor: Actor, actor_id: str, at: dt.datetime, note: str = ""
) -> TimelineEntry:
    """Check the action against the table and the actor list; the entry to append to the timeline."""
    if at.tzinfo is None:
        raise ValueError("transition times must be timezone-aware")
    if actor not in ACTORS[action]:
        raise ActorNotAllowed(f"{actor.value} may not {action.value}")
    note = note.strip()
    if action in NOTE_REQUIRED and not note:
        raise ValidationFailed(f"{action.value} needs a note", code="note_required")
    to_state = next_state(state, action)
    return TimelineEntry(action, state, to_state, actor, actor_id, at.astimezone(dt.UTC), note)


def allowed_actions(state: State) -> list[Action]:
    """What can happen next: shown to staff as the buttons of a ticket."""
    actions = [action for (from_state, action) in TRANSITIONS if from_state is state]
    actions += [action for action, states in NOTE_ACTIONS.items() if state in states]
    return sorted(set(actions), key=list(Action).index)


# --- ticket numbers -------------------------------------------------------------------------------


def ticket_day(at: dt.datetime) -> str:
    """The Asia/Shanghai date a ticket number carries, as YYYYMMDD."""
    return at.astimezone(SHANGHAI).strftime("%Y%m%d")


def format_ticket_no(day: str, seq: int) -> str:
    """``TS`` + YYYYMMDD + a 3-digit daily sequence (it simply grows past 999 on a record day)."""
    if seq < 1:
        raise ValueError("sequence starts at 1")
    return f"TS{day}{seq:03d}"


def parse_ticket_no(text: str) -> str:
    value = text.strip().upper()
    if not TICKET_NO_RE.match(value):
        raise ValidationFailed("a ticket number looks like TS20260315001", code="invalid_ticket_no")
    return value


# --- duplicates and dispatch ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TicketPoint:
    """What duplicate detection compares: site, nuisance type, when and where."""

    ticket_id: int
    site_code: str
    nuisance_type: str
    created_at: dt.datetime
    lat: float | None
    lng: float | None


def is_duplicate(new: TicketPoint, earlier: TicketPoint, *, window: dt.timedelta, distance_m: float) -> bool:
    """Same site, same nuisance, within the window and the distance (no location: the site decides)."""
    if not new.site_code or new.site_code != earlier.site_code or new.nuisance_type != earlier.nuisance_type:
        return False
    if abs(new.created_at - earlier.created_at) > window:
        return False
    if None in (new.lat, new.lng, earlier.lat, earlier.lng):
        return True
    assert new.lat is not None and new.lng is not None and earlier.lat is not None and earlier.lng is not None
    return haversine_m(new.lat, new.lng, earlier.lat, earlier.lng) <= distance_m


@dataclass(frozen=True, slots=True)
class SiteCandidate:
    site_code: str
    project_code: str
    town: str
    lat: float
    lng: float


def nearest_site(
    lat: float, lng: float, candidates: list[SiteCandidate], *, radius_m: float
) -> tuple[SiteCandidate, float] | None:
    best: tuple[SiteCandidate, float] | None = None
    for candidate in candidates:
        distance = haversine_m(lat, lng, candidate.lat, candidate.lng)
        if distance <= radius_m and (best is None or distance < best[1]):
            best = (candidate, distance)
    return best


def town_in_text(text: str, towns: list[str]) -> str:
    """The first known town (镇/街道) named in an address, longest names first."""
    for town in sorted(towns, key=len, reverse=True):
        if town and town in text:
            return town
    return ""


# --- ratings --------------------------------------------------------------------------------------


class Rating(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意


RATING_LABELS: dict[Rating, str] = {
    Rating.SATISFIED: "满意",
    Rating.BASICALLY_SATISFIED: "基本满意",
    Rating.DISSATISFIED: "不满意",
}
_RATING_WORDS: dict[str, Rating] = {
    "1": Rating.SATISFIED,
    "满意": Rating.SATISFIED,
    "非常满意": Rating.SATISFIED,
    "satisfied": Rating.SATISFIED,
    "2": Rating.BASICALLY_SATISFIED,
    "基本满意": Rating.BASICALLY_SATISFIED,
    "还行": Rating.BASICALLY_SATISFIED,
    "basically_satisfied": Rating.BASICALLY_SATISFIED,
    "3": Rating.DISSATISFIED,
    "不满意": Rating.DISSATISFIED,
    "不满": Rating.DISSATISFIED,
    "dissatisfied": Rating.DISSATISFIED,
}


def parse_rating(text: str) -> Rating | None:
    """满意/基本满意/不满意, 1/2/3 or the enum value; None when the text is not a rating."""
    cleaned = text.strip().strip("。.!！ ").lower()
    return _RATING_WORDS.get(cleaned)


def rating_action(rating: Rating) -> Action:
    return Action.RATE_DISSATISFIED if rating is Rating.DISSATISFIED else Action.RATE_SATISFIED


# Open311 ``agency_responsible`` and the citizen-facing name of who handles a ticket.
AGENCY_NAMES: dict[str, str] = {
    "housing": "温岭市住房和城乡建设局",
    "environment": "台州市生态环境局温岭分局",
    "urban_management": "温岭市综合行政执法局",
    "emergency": "温岭市应急管理局",
    "transport": "温岭市交通运输局",
    "planning": "温岭市自然资源和规划局",
}
