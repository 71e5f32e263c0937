"""The typed frames of the conversation state: JSON round trip, validation on load (a stale or corrupted
frame is dropped, never a crash), life-cycle transitions and the expiry of pending questions."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from bot.dialogue.frames import (
    AlarmFixQuestion,
    ApprovalFrame,
    BindingFrame,
    ComplaintFrame,
    EmergencyFrame,
    EnvironmentFrame,
    Focus,
    Frame,
    FrameError,
    FrameStatus,
    InvalidFrameTransition,
    ProjectQueryFrame,
    RatingQuestion,
    load_frame,
    load_question,
)
from bot.dialogue.types import ConversationState

DRAFT = ComplaintFrame(
    status=FrameStatus.CONFIRMING,
    nuisance_type="night_noise",
    address="万昌中路与锦屏路路口",
    lat=41.12,
    lng=121.13,
    occurred_at="2026-05-01T15:00:00+00:00",
    drafted_at=1_777_000_000.5,
    dialogue_started_at=1_777_000_000.0,
)
LISTING = ProjectQueryFrame(
    offered=("WL-2026-0002", "WL-2026-0003"), page=1, near=(41.1, 121.1), radius_m=5000
)
FRAMES: list[Frame] = [
    LISTING,
    ProjectQueryFrame(offered=("WL-2026-0004",), page=2, term="万昌路", construction=True),
    DRAFT,
    EnvironmentFrame(project_code="WL-2026-0001"),
    EmergencyFrame(incident_code="EM-2026-0007", opened_at=1_777_000_000.0),
    ApprovalFrame(application_code="SP-2026-0001"),
    BindingFrame(project_code="WL-2026-0031", started_at=1_777_000_000.0),
]
RATING = RatingQuestion(ticket_no="TS20261207002", asked_at=1_777_000_000.0, expires_at=1_779_592_000.0)


@pytest.mark.parametrize("frame", FRAMES, ids=lambda frame: frame.task)
def test_every_frame_survives_a_json_round_trip(frame: Frame) -> None:
    stored = json.loads(json.dumps(frame.to_dict(), ensure_ascii=False))
    assert load_frame(stored) == frame
    assert type(frame).from_json(frame.to_json()) == frame


def test_the_whole_state_round_trips_with_its_frames_pending_questions_and_focus() -> None:
    state = ConversationState(intent="report_nuisance", slots={"what": "dust"}, focus=Focus("WL-2026-0001"))
    for frame in FRAMES[1:]:
        state.put(frame)
    state.ask(AlarmFixQuestion(alarm_id=193, note="已整改，已洒水", asked_at=10.0, expires_at=1810.0))
    loaded = ConversationState.from_json(state.to_json())
    assert loaded == state
    assert loaded.frame(ComplaintFrame) == DRAFT
    assert loaded.frame(ProjectQueryFrame) == FRAMES[1]
    assert loaded.focus.project_code == "WL-2026-0001"


def _stored(**changes: Any) -> dict[str, Any]:
    return DRAFT.to_dict() | changes


@pytest.mark.parametrize(
    "data",
    [
        _stored(lat="41.12"),  # a number stored as text
        _stored(drafted_at=True),  # a bool is not a timestamp
        _stored(nuisance_type=None),
        _stored(status="submitted"),  # a status this version does not know
        _stored(task="report_noise"),  # a task this version does not know
        {key: value for key, value in DRAFT.to_dict().items() if key != "occurred_at"},  # missing field
        LISTING.to_dict() | {"offered": ["WL-2026-0002", 3]},
        LISTING.to_dict() | {"near": [41.1]},  # a point needs two coordinates
        LISTING.to_dict() | {"page": 1.5},
        ["report_nuisance"],
        "complaint_draft",
    ],
)  # fmt: skip
def test_a_frame_of_the_wrong_shape_is_refused(data: object) -> None:
    with pytest.raises(FrameError):
        load_frame(data)


def test_a_draft_gives_back_the_place_it_was_made_from() -> None:
    assert DRAFT.where() == {"address": "万昌中路与锦屏路路口", "lat": 41.12, "lng": 121.13}
    typed = replace(DRAFT, lat=None, lng=None)
    assert typed.where() == {"address": "万昌中路与锦屏路路口"}  # a place named in words has no point


def test_integers_are_accepted_where_coordinates_are_expected() -> None:
    frame = load_frame(_stored(lat=41, lng=121))
    assert isinstance(frame, ComplaintFrame) and frame.lat == 41.0 and isinstance(frame.lat, float)


def test_a_corrupted_frame_is_dropped_and_the_rest_of_the_conversation_kept() -> None:
    state = ConversationState(intent="query_project", focus=Focus("WL-2026-0001"))
    state.put(LISTING)
    state.ask(AlarmFixQuestion(alarm_id=1, note="已整改", asked_at=0.0, expires_at=100.0))
    data = json.loads(state.to_json())
    data["frames"].append(_stored(lat="north"))
    data["frames"].append({"task": "rating", "ticket_no": "TS-1"})  # an older version's frame
    data["pending"].append({"task": "alarm_fix", "alarm_id": "1"})
    loaded = ConversationState.from_json(json.dumps(data))
    assert loaded.frame(ComplaintFrame) is None
    assert loaded.frame(ProjectQueryFrame) == LISTING
    assert [(q.task, getattr(q, "alarm_id", None)) for q in loaded.pending] == [("alarm_fix", 1)]
    assert loaded.intent == "query_project" and loaded.focus.project_code == "WL-2026-0001"


def test_a_state_from_before_frames_loads_fresh() -> None:
    old = {"intent": "", "context": {"project_code": "WL-2026-0001", "complaint_draft": {"what": "dust"}}}
    loaded = ConversationState.from_json(json.dumps(old))
    assert loaded.frames == {} and loaded.focus == Focus()
    corrupt = ConversationState.from_json(json.dumps({"focus": {"project_code": 7}, "frames": [None]}))
    assert corrupt.focus == Focus() and corrupt.frames == {}
    with pytest.raises(ValueError):  # the store starts afresh on this
        ConversationState.from_json(json.dumps(["intent", "query_project"]))


def test_life_cycle_follows_the_transition_table() -> None:
    assert DRAFT.advance(FrameStatus.DONE).status is FrameStatus.DONE
    assert DRAFT.advance(FrameStatus.COLLECTING).status is FrameStatus.COLLECTING  # a correction
    with pytest.raises(InvalidFrameTransition):
        DRAFT.advance(FrameStatus.DONE).advance(FrameStatus.CONFIRMING)  # a submitted report is final
    with pytest.raises(InvalidFrameTransition):
        LISTING.advance(FrameStatus.CONFIRMING)  # an answer shown is not a draft


def test_a_finished_frame_leaves_the_state_and_cancel_keeps_answers_in_focus() -> None:
    state = ConversationState()
    state.put(DRAFT)
    state.put(DRAFT.advance(FrameStatus.DONE))
    assert state.frame(ComplaintFrame) is None
    state.put(DRAFT)
    state.put(LISTING)
    state.cancel_drafts()
    assert state.frame(ComplaintFrame) is None
    assert state.frame(ProjectQueryFrame) == LISTING  # "还有吗" still pages the list after "取消"


def test_pending_questions_of_each_kind_round_trip_and_wait_side_by_side() -> None:
    assert load_question(json.loads(RATING.to_json())) == RATING
    fix = AlarmFixQuestion(alarm_id=193, note="已整改", asked_at=5.0, expires_at=1805.0)
    state = ConversationState()
    state.ask(RATING)
    state.ask(fix)  # an alarm's photo question does not replace the citizen's rating question
    loaded = ConversationState.from_json(state.to_json())
    assert loaded.waiting(RatingQuestion, now=1000.0) == RATING
    assert loaded.waiting(AlarmFixQuestion, now=1000.0) == fix
    later = 1_777_000_100.0  # the photo question has expired; the rating question still waits
    assert loaded.waiting(AlarmFixQuestion, now=later) is None
    assert loaded.waiting(RatingQuestion, now=later) == RATING
    with pytest.raises(FrameError):
        load_question(RATING.to_dict() | {"ticket_no": 42})


def test_a_binding_in_progress_is_a_draft_that_cancel_ends() -> None:
    state = ConversationState()
    binding = FRAMES[-1]
    assert isinstance(binding, BindingFrame) and binding.status is FrameStatus.COLLECTING
    state.put(binding)
    assert state.has_drafts()
    state.cancel_drafts()
    assert state.frame(BindingFrame) is None and not state.has_drafts()
    state.put(binding.advance(FrameStatus.DONE))  # bound: nothing left to retry
    assert state.frame(BindingFrame) is None


def test_a_pending_question_expires() -> None:
    state = ConversationState()
    first = AlarmFixQuestion(alarm_id=1, note="已整改", asked_at=0.0, expires_at=100.0)
    second = AlarmFixQuestion(alarm_id=2, note="已整改", asked_at=50.0, expires_at=150.0)
    state.ask(first)
    assert state.waiting(AlarmFixQuestion, now=100.0) == first
    state.ask(second)  # a newer question of the same kind replaces the older one
    assert state.waiting(AlarmFixQuestion, now=60.0) == second
    assert state.pending == [second]
    assert state.waiting(AlarmFixQuestion, now=150.5) is None
    assert state.pending == []  # expired questions are forgotten, not kept in the store
    state.ask(first)
    state.answered(first)
    assert state.waiting(AlarmFixQuestion, now=10.0) is None
