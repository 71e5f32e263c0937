"""Approval outcomes and the project life cycle (pure rules)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from domain.projects.progress_rules import (
    COMPLETION_ACCEPTANCE,
    CONSTRUCTION_PERMIT,
    expected_completion,
    on_decided,
    on_submitted,
)
from domain.projects.rules import ProjectStage

REPO_ROOT = Path(__file__).resolve().parents[2]
DAY = dt.date(2026, 5, 6)


def _decided(current: ProjectStage, stage: str, status: str = "approved", **dates: dt.date | None):  # type: ignore[no-untyped-def]
    return on_decided(
        current,
        approval_stage=stage,
        status=status,
        day=DAY,
        actual_start=dates.get("actual_start"),
        actual_end=dates.get("actual_end"),
    )


def test_the_approval_stages_named_are_the_configured_ones() -> None:
    stages = {
        stage["key"]
        for stage in yaml.safe_load((REPO_ROOT / "config" / "approvals.yml").read_text())["stages"]
    }
    assert {CONSTRUCTION_PERMIT, COMPLETION_ACCEPTANCE} <= stages


def test_a_permit_starts_the_works_and_keeps_a_recorded_start() -> None:
    move = _decided(ProjectStage.APPROVAL, CONSTRUCTION_PERMIT)
    assert move is not None and (move.stage, move.actual_start, move.milestone) == (
        ProjectStage.CONSTRUCTION,
        DAY,
        "施工许可取得",
    )
    earlier = dt.date(2026, 4, 1)
    move = _decided(ProjectStage.PLANNING, CONSTRUCTION_PERMIT, actual_start=earlier)
    assert move is not None and move.actual_start == earlier


def test_the_acceptance_finishes_it_at_full_progress() -> None:
    move = _decided(ProjectStage.ACCEPTANCE, COMPLETION_ACCEPTANCE)
    assert move is not None
    assert (move.stage, move.actual_end, move.progress_pct) == (ProjectStage.COMPLETED, DAY, 100)


def test_only_forward_and_only_granted() -> None:
    assert _decided(ProjectStage.CONSTRUCTION, CONSTRUCTION_PERMIT) is None  # redelivered
    assert _decided(ProjectStage.COMPLETED, CONSTRUCTION_PERMIT) is None  # late
    assert _decided(ProjectStage.APPROVAL, CONSTRUCTION_PERMIT, status="rejected") is None
    assert _decided(ProjectStage.APPROVAL, "land_use_planning") is None  # not a life-cycle step
    assert on_submitted(ProjectStage.PLANNING) is not None
    assert on_submitted(ProjectStage.CONSTRUCTION) is None


def test_a_finished_project_never_expects_a_day_ahead() -> None:
    ahead = dt.date(2030, 1, 1)
    assert expected_completion(ProjectStage.CONSTRUCTION, planned_end=ahead, actual_end=None) == ahead
    assert expected_completion(ProjectStage.COMPLETED, planned_end=ahead, actual_end=DAY) == DAY
    assert expected_completion(ProjectStage.COMPLETED, planned_end=ahead, actual_end=None) is None
