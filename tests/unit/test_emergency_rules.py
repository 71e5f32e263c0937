"""Grading at every boundary, reporting clocks, transitions and resource choice (pure rules)."""

from __future__ import annotations

import datetime as dt

import pytest

from adapters.config_files import CONFIG_DIR, load_plan_templates
from domain.emergency.plans import ResourceChoice, choose_resources
from domain.emergency.rules import (
    IncidentGrade,
    IncidentStatus,
    IncidentType,
    ReportLevel,
    classify_incident_text,
    grade_incident,
    next_status,
    reminders_due,
    reporting_deadlines,
    supplementary_due,
)
from domain.errors import Conflict

WAN = 10_000
G, L, M, E = IncidentGrade.GENERAL, IncidentGrade.LARGER, IncidentGrade.MAJOR, IncidentGrade.ESPECIALLY_MAJOR


@pytest.mark.parametrize(
    ("deaths", "injuries", "loss", "grade"),
    [
        (0, 0, 0, G),
        (2, 9, 999 * WAN + 9_999, G),  # everything just below 较大
        (3, 0, 0, L),  # "3人以上" includes 3
        (0, 10, 0, L),
        (0, 0, 1_000 * WAN, L),
        (9, 49, 5_000 * WAN - 1, L),  # just below 重大 on every measure
        (10, 0, 0, M),
        (0, 50, 0, M),
        (0, 0, 5_000 * WAN, M),
        (29, 99, 10_000 * WAN - 1, M),
        (30, 0, 0, E),
        (0, 100, 0, E),
        (0, 0, 10_000 * WAN, E),
        (1, 100, 0, E),  # the highest band triggered wins
        (3, 0, 10_000 * WAN, E),
    ],
)
def test_grading_boundaries(deaths: int, injuries: int, loss: int, grade: IncidentGrade) -> None:
    assert grade_incident(deaths=deaths, serious_injuries=injuries, direct_loss_yuan=loss) is grade


def test_reporting_clocks_one_hour_then_two_per_level() -> None:
    occurred = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
    general = reporting_deadlines(IncidentGrade.GENERAL, occurred_at=occurred)
    assert [(d.level, d.due_at - occurred) for d in general] == [
        (ReportLevel.COUNTY, dt.timedelta(hours=1)),
        (ReportLevel.CITY, dt.timedelta(hours=3)),
    ]
    major = reporting_deadlines(IncidentGrade.MAJOR, occurred_at=occurred)
    assert [d.level for d in major] == list(ReportLevel)
    assert major[-1].due_at - occurred == dt.timedelta(hours=7)
    assert supplementary_due(occurred) - occurred == dt.timedelta(days=30)


def test_reminders_fire_before_each_unreported_deadline() -> None:
    occurred = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
    deadlines = reporting_deadlines(IncidentGrade.LARGER, occurred_at=occurred)
    lead = dt.timedelta(minutes=15)
    assert reminders_due(deadlines, reported=set(), now=occurred, lead=lead) == []
    at_45 = reminders_due(deadlines, reported=set(), now=occurred + dt.timedelta(minutes=45), lead=lead)
    assert [d.level for d in at_45] == [ReportLevel.COUNTY]
    assert (
        reminders_due(deadlines, reported={"county"}, now=occurred + dt.timedelta(minutes=45), lead=lead)
        == []
    )


def test_status_transitions_are_a_table() -> None:
    assert next_status(IncidentStatus.REPORTED, IncidentStatus.DISPATCHED) is IncidentStatus.DISPATCHED
    with pytest.raises(Conflict):
        next_status(IncidentStatus.CLOSED, IncidentStatus.ON_SCENE)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("工地塔吊倒了有人受伤", IncidentType.CRANE_COLLAPSE),
        ("基坑塌方埋了人", IncidentType.EXCAVATION_COLLAPSE),
        ("工地着火了", IncidentType.FIRE),
        ("有工人从楼上摔下来", IncidentType.FALL_FROM_HEIGHT),
        ("出事了快来", IncidentType.OTHER),
    ],
)
def test_free_text_maps_to_an_incident_type(text: str, kind: IncidentType) -> None:
    assert classify_incident_text(text) is kind


def test_every_incident_type_has_a_plan_template() -> None:
    templates = load_plan_templates(CONFIG_DIR / "emergency_plans")
    assert set(templates) == set(IncidentType)
    assert "collapse_rescue" in templates[IncidentType.CRANE_COLLAPSE].required_capabilities


def test_resources_are_chosen_nearest_first_per_capability_without_repeats() -> None:
    def choice(code: str, capability: str, distance: float) -> ResourceChoice:
        return ResourceChoice(code, code, "x", capability, distance, "", "")

    candidates = [
        choice("F1", "fire", 900),
        choice("F1", "rescue", 900),
        choice("F2", "fire", 300),
        choice("H1", "medical", 2000),
        choice("H2", "medical", 1500),
        choice("R1", "rescue", 5000),
    ]
    chosen = choose_resources(candidates, required=("fire", "rescue", "medical"), per_capability=1)
    assert [c.code for c in chosen] == ["F2", "F1", "H2"]
