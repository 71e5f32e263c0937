"""The complaint state machine, ticket numbers, duplicates, ratings and coordinates (pure, no I/O)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.complaints.rules import (
    ACTORS,
    NOTE_ACTIONS,
    TERMINAL_STATES,
    TRANSITIONS,
    Action,
    Actor,
    ActorNotAllowed,
    InvalidTransition,
    Rating,
    SiteCandidate,
    State,
    TicketPoint,
    allowed_actions,
    format_ticket_no,
    is_duplicate,
    nearest_site,
    parse_rating,
    parse_ticket_no,
    ticket_day,
    town_in_text,
    transition,
)
from domain.errors import ValidationFailed
from domain.geo import gcj02_to_wgs84, haversine_m, wgs84_to_gcj02

T0 = dt.datetime(2026, 3, 10, 14, 0, tzinfo=dt.UTC)


def _walk(*steps: tuple[Action, Actor, str]) -> State:
    state = State.SUBMITTED
    for action, actor, note in steps:
        state = transition(state, action, actor=actor, actor_id="x", at=T0, note=note).to_state
    return state


def test_main_path_from_submitted_to_closed() -> None:
    final = _walk(
        (Action.DISPATCH, Actor.SYSTEM, ""),
        (Action.ACCEPT, Actor.STAFF, ""),
        (Action.START, Actor.STAFF, ""),
        (Action.REPLY, Actor.STAFF, "已责令停止夜间施工"),
        (Action.ASK_RATING, Actor.SYSTEM, ""),
        (Action.RATE_SATISFIED, Actor.CITIZEN, ""),
    )
    assert final is State.CLOSED


def test_dissatisfied_reopens_and_the_ticket_can_be_answered_again() -> None:
    state = _walk(
        (Action.DISPATCH, Actor.SYSTEM, ""),
        (Action.ACCEPT, Actor.STAFF, ""),
        (Action.REPLY, Actor.STAFF, "处理中"),
        (Action.RATE_DISSATISFIED, Actor.CITIZEN, ""),
    )
    assert state is State.REOPENED
    entry = transition(state, Action.REPLY, actor=Actor.STAFF, actor_id="7", at=T0, note="再次处理")
    assert entry.to_state is State.REPLIED


def test_return_and_reassign() -> None:
    state = _walk((Action.DISPATCH, Actor.SYSTEM, ""), (Action.RETURN, Actor.STAFF, "非本部门职责"))
    assert state is State.RETURNED
    assert (
        transition(state, Action.REASSIGN, actor=Actor.STAFF, actor_id="1", at=T0).to_state
        is State.DISPATCHED
    )


def test_timeline_entry_records_who_when_and_why() -> None:
    at = dt.datetime(2026, 3, 10, 22, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    entry = transition(
        State.DISPATCHED, Action.REFUSE, actor=Actor.STAFF, actor_id="12", at=at, note=" 不属于受理范围 "
    )
    assert entry.to_state is State.NOT_ACCEPTED
    assert entry.actor_id == "12"
    assert entry.note == "不属于受理范围"
    assert entry.at.tzinfo == dt.UTC and entry.at == at


@pytest.mark.parametrize("action", [Action.REFUSE, Action.RETURN, Action.REPLY, Action.NOTE])
def test_reason_is_mandatory(action: Action) -> None:
    with pytest.raises(ValidationFailed):
        transition(State.ACCEPTED, action, actor=Actor.STAFF, actor_id="1", at=T0, note="  ")


def test_terminal_states_accept_nothing_but_notes_and_reopen() -> None:
    for state in TERMINAL_STATES:
        for action in Action:
            if (state, action) in TRANSITIONS or state in NOTE_ACTIONS.get(action, frozenset()):
                assert state is State.CLOSED or action is Action.NOTE, (state, action)


def test_citizen_cannot_take_staff_actions_and_staff_cannot_rate() -> None:
    with pytest.raises(ActorNotAllowed):
        transition(State.DISPATCHED, Action.ACCEPT, actor=Actor.CITIZEN, actor_id="c", at=T0)
    with pytest.raises(ActorNotAllowed):
        transition(State.REPLIED, Action.RATE_SATISFIED, actor=Actor.STAFF, actor_id="1", at=T0)


def test_invalid_transition_is_a_conflict() -> None:
    with pytest.raises(InvalidTransition) as raised:
        transition(State.SUBMITTED, Action.REPLY, actor=Actor.STAFF, actor_id="1", at=T0, note="x")
    assert raised.value.status == 409


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        transition(
            State.SUBMITTED, Action.DISPATCH, actor=Actor.SYSTEM, actor_id="", at=dt.datetime(2026, 1, 1)
        )


@given(st.lists(st.sampled_from(list(Action)), max_size=30))
def test_any_action_sequence_stays_inside_the_table(actions: list[Action]) -> None:
    state = State.SUBMITTED
    for action in actions:
        actor = next(iter(ACTORS[action]))
        try:
            entry = transition(state, action, actor=actor, actor_id="p", at=T0, note="n")
        except InvalidTransition:
            assert action not in allowed_actions(state)
            continue
        assert action in allowed_actions(state)
        assert (state, action) in TRANSITIONS or entry.to_state is state
        state = entry.to_state


def test_ticket_numbers_use_the_shanghai_date() -> None:
    late_utc = dt.datetime(2026, 2, 14, 17, 30, tzinfo=dt.UTC)  # 01:30 on the 15th in Shanghai
    assert ticket_day(late_utc) == "20260215"
    assert format_ticket_no("20260215", 7) == "TS20260215007"
    assert format_ticket_no("20260215", 1234) == "TS202602151234"
    assert parse_ticket_no(" ts20260215007 ") == "TS20260215007"
    with pytest.raises(ValidationFailed):
        parse_ticket_no("TS2026")


def _point(ticket_id: int, minutes: int, lat: float | None, lng: float | None, **kw: str) -> TicketPoint:
    return TicketPoint(
        ticket_id,
        kw.get("site", "WL-2026-0031-S1"),
        kw.get("kind", "night_noise"),
        T0 + dt.timedelta(minutes=minutes),
        lat,
        lng,
    )


def test_duplicates_need_same_site_type_window_and_distance() -> None:
    window, distance = dt.timedelta(hours=2), 300.0
    first = _point(1, 0, 28.3720, 121.3720)
    assert is_duplicate(_point(2, 90, 28.3735, 121.3720), first, window=window, distance_m=distance)  # ~170 m
    assert not is_duplicate(_point(2, 130, 28.3720, 121.3720), first, window=window, distance_m=distance)
    assert not is_duplicate(
        _point(2, 10, 28.3760, 121.3720), first, window=window, distance_m=distance
    )  # ~440 m
    assert not is_duplicate(
        _point(2, 10, 28.3720, 121.3720, kind="dust"), first, window=window, distance_m=distance
    )
    assert not is_duplicate(
        _point(2, 10, 28.372, 121.372, site="WL-2026-0032-S1"), first, window=window, distance_m=distance
    )
    assert is_duplicate(_point(2, 10, None, None), first, window=window, distance_m=distance)


def test_nearest_site_within_radius() -> None:
    sites = [
        SiteCandidate("A-S1", "A", "太平街道", 28.3720, 121.3720),
        SiteCandidate("B-S1", "B", "太平街道", 28.3740, 121.3720),
    ]
    found = nearest_site(28.3738, 121.3720, sites, radius_m=500)
    assert found is not None and found[0].site_code == "B-S1"
    assert nearest_site(28.40, 121.40, sites, radius_m=500) is None
    assert town_in_text("温岭市泽国镇文昌路", ["太平街道", "泽国镇"]) == "泽国镇"


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("满意", Rating.SATISFIED),
        ("1", Rating.SATISFIED),
        ("基本满意", Rating.BASICALLY_SATISFIED),
        ("2", Rating.BASICALLY_SATISFIED),
        ("不满意！", Rating.DISSATISFIED),
        ("3", Rating.DISSATISFIED),
        ("今天天气不错", None),
        ("4", None),
    ],
)
def test_rating_words(text: str, rating: Rating | None) -> None:
    assert parse_rating(text) is rating


def test_gcj02_round_trip_is_within_a_metre() -> None:
    lat, lng = 28.3720, 121.3720
    g_lat, g_lng = wgs84_to_gcj02(lat, lng)
    assert haversine_m(lat, lng, g_lat, g_lng) > 100  # the offset is real (hundreds of metres)
    back = gcj02_to_wgs84(g_lat, g_lng)
    assert haversine_m(lat, lng, *back) < 1
