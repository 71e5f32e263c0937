"""The per-recipient alarm notice policy and escalation rules, pure (issue 16)."""

from __future__ import annotations

import datetime as dt

from domain.notifications.rules import (
    DEFAULT_ROSTER,
    EscalationState,
    OutboxStatus,
    ThrottleState,
    decide_notice,
    digest_due,
    digest_summary,
    escalation_outcome,
    responsible_department,
    roster_department,
)

T0 = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)


def test_first_notice_goes_and_repeats_inside_the_window_are_held() -> None:
    assert decide_notice(ThrottleState(), major=False, now=T0).send
    sent = ThrottleState(last_sent_at=T0)
    assert not decide_notice(sent, major=False, now=T0 + 9 * MIN).send
    after = decide_notice(ThrottleState(T0, suppressed=4), major=False, now=T0 + 10 * MIN)
    assert after.send and after.carried == 4, "the next message reports what was held back"


def test_majors_go_at_once_but_not_twice_in_a_window() -> None:
    after_warning = decide_notice(ThrottleState(T0, last_major=False, suppressed=2), major=True, now=T0 + MIN)
    assert after_warning.send and after_warning.carried == 2
    assert not decide_notice(ThrottleState(T0, last_major=True), major=True, now=T0 + MIN).send


def test_digest_is_due_only_with_held_notices_after_the_window() -> None:
    assert not digest_due(ThrottleState(T0, suppressed=0), now=T0 + 20 * MIN)
    assert not digest_due(ThrottleState(T0, suppressed=3), now=T0 + 5 * MIN)
    assert digest_due(ThrottleState(T0, suppressed=3), now=T0 + 10 * MIN)


def test_digest_summary_names_each_rule() -> None:
    labels = {"dust_pm10_1h": "扬尘超标", "noise_day_leq": "噪声超标"}
    summary = digest_summary({"noise_day_leq": 1, "dust_pm10_1h": 3, "crane_wind": 0}, labels=labels)
    assert summary == "扬尘超标 3 条，噪声超标 1 条"


def test_escalation_is_delivered_by_one_message_or_falls_back_at_the_deadline() -> None:
    deadline = dt.timedelta(minutes=10)
    statuses = [OutboxStatus.PENDING, OutboxStatus.SENT]
    assert escalation_outcome(statuses, created_at=T0, now=T0, deadline=deadline) is EscalationState.DELIVERED
    waiting = [OutboxStatus.PENDING, OutboxStatus.WAITING_FOR_INTERACTION]
    assert escalation_outcome(waiting, created_at=T0, now=T0 + 9 * MIN, deadline=deadline) is None
    late = escalation_outcome(waiting, created_at=T0, now=T0 + 10 * MIN, deadline=deadline)
    assert late is EscalationState.FALLBACK
    assert escalation_outcome([], created_at=T0, now=T0, deadline=deadline) is EscalationState.FALLBACK


def test_rosters_and_departments() -> None:
    assert roster_department("housing", departments_with_roster=frozenset({"housing"})) == "housing"
    assert roster_department("environment", departments_with_roster=frozenset({"housing"})) == DEFAULT_ROSTER
    assert responsible_department("dust_pm10_1h") == "housing"
    assert responsible_department("dust_pm10_1h", table={"dust_": "environment"}) == "environment"
