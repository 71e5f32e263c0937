"""How approval outcomes move a project through its life cycle (pure: no I/O).

The bureau's approvals are the facts behind a project's stage: a granted construction permit (施工许可)
starts the works (在建), a passed completion acceptance (竣工验收) finishes them (已竣工). A stage only
ever moves forward, so a replayed or late event changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.projects.rules import ProjectStage

# Approval stage keys of config/approvals.yml (a unit test checks they are still there).
CONSTRUCTION_PERMIT = "construction_permit"
COMPLETION_ACCEPTANCE = "completion_acceptance"
APPROVED = "approved"

STAGE_ORDER: dict[ProjectStage, int] = {stage: rank for rank, stage in enumerate(ProjectStage)}
# What a granted approval makes of the project, and the milestone it reaches (config/demo_data.py's
# MILESTONES use these names; a project registered with other milestone names keeps them unmarked).
OUTCOMES: dict[str, tuple[ProjectStage, str]] = {
    CONSTRUCTION_PERMIT: (ProjectStage.CONSTRUCTION, "施工许可取得"),
    COMPLETION_ACCEPTANCE: (ProjectStage.COMPLETED, "竣工验收"),
}


@dataclass(frozen=True, slots=True)
class StageMove:
    """What to write on the project: its new stage, the day the works started or ended (only where
    not recorded yet), the progress, and the milestone reached that day."""

    stage: ProjectStage
    actual_start: dt.date | None = None
    actual_end: dt.date | None = None
    progress_pct: int | None = None
    milestone: str = ""


def on_submitted(current: ProjectStage) -> StageMove | None:
    """A project in planning is 审批中 once its first application is submitted."""
    return StageMove(ProjectStage.APPROVAL) if current is ProjectStage.PLANNING else None


def on_decided(
    current: ProjectStage,
    *,
    approval_stage: str,
    status: str,
    day: dt.date,
    actual_start: dt.date | None,
    actual_end: dt.date | None,
) -> StageMove | None:
    """The move a decided application makes, or None (refused, not a life-cycle approval, or the
    project is already that far)."""
    outcome = OUTCOMES.get(approval_stage)
    if status != APPROVED or outcome is None:
        return None
    target, milestone = outcome
    if STAGE_ORDER[target] <= STAGE_ORDER[current]:
        return None
    if target is ProjectStage.COMPLETED:
        return StageMove(
            target,
            actual_start=actual_start or None,
            actual_end=actual_end or day,
            progress_pct=100,
            milestone=milestone,
        )
    return StageMove(target, actual_start=actual_start or day, milestone=milestone)


def expected_completion(
    stage: ProjectStage, *, planned_end: dt.date | None, actual_end: dt.date | None
) -> dt.date | None:
    """A finished project's completion is the day it ended, never a planned day still ahead; when that
    day was not recorded, there is no expected date to show."""
    if actual_end is not None:
        return actual_end
    return None if stage is ProjectStage.COMPLETED else planned_end
