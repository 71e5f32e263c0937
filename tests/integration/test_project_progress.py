"""Approval outcomes move the project (issue 18): submitted, a construction permit granted (在建),
the completion acceptance passed (已竣工), through the outbox, the bus and the consumer, as deployed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from adapters.memory import MemoryEventBus
from domain.approvals import reviews
from domain.approvals.models import ReviewTask
from domain.approvals.rules import TaskDecision
from domain.events import DomainEvent
from domain.projects import progress
from domain.projects.models import Milestone, Project
from domain.projects.rules import ProjectKind, ProjectStage
from domain.projects.services import project_details
from tests.integration.approvals_helpers import PROJECT, T0, make_env, staff
from tests.integration.test_approvals_services import submitted_permit
from tests.outbox_helpers import relay_and_consume

pytestmark = pytest.mark.usefixtures("database")
MILESTONES = ("施工许可取得", "基础完成", "主体结构封顶", "装饰装修完成", "竣工验收")
PLANNED_END = dt.date(2030, 6, 30)  # far ahead: a finished project must never show it


async def _project() -> Project:
    project = await Project.create(
        code=PROJECT,
        name="城东安置房三期",
        kind=ProjectKind.RESIDENTIAL,
        stage=ProjectStage.PLANNING,
        town="城东街道",
        address="万昌中路 1 号",
        lat=28.37,
        lng=121.38,
        planned_start=dt.date(2026, 3, 1),
        planned_end=PLANNED_END,
        progress_pct=0,
    )
    for seq, name in enumerate(MILESTONES, start=1):
        await Milestone.create(project=project, seq=seq, name=name, planned_date=dt.date(2026 + seq, 1, 1))
    return project


async def _deliver(bus: MemoryEventBus) -> int:
    return await relay_and_consume(
        bus, group=progress.CONSUMER_GROUP, event_names=progress.CONSUMED_EVENTS, handle=progress.handle_event
    )


def _decided(
    code: str, stage: str, *, at: dt.datetime, status: str = "approved", project_code: str = PROJECT
) -> DomainEvent:
    """An ``ApplicationDecided`` as the approvals context publishes it (domain/approvals/events.py)."""
    payload = {"code": code, "project_code": project_code, "stage": stage, "status": status, "reason": "",
               "material_versions": {}, "file_refs": [], "at": at.isoformat()}  # fmt: skip
    return DomainEvent(progress.APPLICATION_DECIDED, payload)


async def _milestones() -> dict[str, dt.date | None]:
    return {m.name: m.actual_date for m in await Milestone.filter(project__code=PROJECT).order_by("seq")}


async def test_a_granted_construction_permit_makes_the_project_under_construction(tmp_path: Path) -> None:
    await _project()
    env = make_env(tmp_path)
    bus = MemoryEventBus()
    application = await submitted_permit(env)
    assert await _deliver(bus) == 1
    assert (await Project.get(code=PROJECT)).stage is ProjectStage.APPROVAL

    for task in await ReviewTask.filter(application_id=application.id):
        await reviews.decide(
            env, staff(task.department), task.id, decision=TaskDecision.APPROVE, comment="符合", now=T0
        )
    assert await _deliver(bus) == 1
    project = await Project.get(code=PROJECT)
    day = dt.date(2026, 2, 10)  # T0 in Asia/Shanghai
    assert (project.stage, project.actual_start, project.actual_end) == (ProjectStage.CONSTRUCTION, day, None)
    assert (await _milestones())["施工许可取得"] == day
    details = await project_details(PROJECT)
    assert details["stage"] == "construction" and details["expected_completion"] == PLANNED_END.isoformat()


async def test_the_completion_acceptance_finishes_it_and_a_redelivery_changes_nothing() -> None:
    await _project()
    await Project.filter(code=PROJECT).update(
        stage=ProjectStage.CONSTRUCTION, actual_start=dt.date(2026, 3, 2)
    )
    at = dt.datetime(2027, 5, 20, 23, 30, tzinfo=dt.UTC)  # 21 May in Wenling
    decided = _decided("SP2027-0001", "completion_acceptance", at=at)
    move = await progress.handle_event(decided)
    assert move is not None and move.stage is ProjectStage.COMPLETED
    project = await Project.get(code=PROJECT)
    finished = dt.date(2027, 5, 21)
    assert (project.stage, project.actual_start, project.actual_end, project.progress_pct) == (
        ProjectStage.COMPLETED,
        dt.date(2026, 3, 2),
        finished,
        100,
    )
    assert (await _milestones())["竣工验收"] == finished
    details = await project_details(PROJECT)
    assert details["expected_completion"] == finished.isoformat()  # not 2030, the planned end

    assert await progress.handle_event(decided) is None  # redelivered: already finished
    late_permit = _decided("SP2026-0009", "construction_permit", at=at)
    assert await progress.handle_event(late_permit) is None  # never backwards
    assert (await Project.get(code=PROJECT)).stage is ProjectStage.COMPLETED


async def test_a_refusal_or_an_unknown_project_moves_nothing() -> None:
    await _project()
    refused = _decided("SP2026-0002", "construction_permit", at=T0, status="rejected")
    assert await progress.handle_event(refused) is None
    elsewhere = _decided("SP2026-0003", "construction_permit", at=T0, project_code="WL-2099-0001")
    assert await progress.handle_event(elsewhere) is None
    assert (await Project.get(code=PROJECT)).stage is ProjectStage.PLANNING


async def test_a_finished_project_without_a_recorded_end_shows_no_planned_day_ahead() -> None:
    """Registered as 已竣工 by hand, with its planned end still in the future: no expected date."""
    await _project()
    await Project.filter(code=PROJECT).update(stage=ProjectStage.COMPLETED)
    details = await project_details(PROJECT)
    assert details["expected_completion"] is None and details["planned_end"] == PLANNED_END.isoformat()
