"""The approvals context's events move projects through their life cycle (consumer group
``project-progress``). Each event is applied in one transaction; the rules only move forward, so a
redelivered event is a no-op (idempotent without a ledger)."""

from __future__ import annotations

import datetime as dt
import logging

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from domain.events import DomainEvent, run_consumer
from domain.ports import EventBus
from domain.projects.models import Milestone, Project
from domain.projects.progress_rules import StageMove, on_decided, on_submitted
from domain.projects.rules import PROJECT_STAGE_LABELS

log = logging.getLogger(__name__)

CONSUMER_GROUP = "project-progress"
# The approvals context's event names (domain/approvals/events.py), named here so that contexts
# stay apart: the events are the contract.
APPLICATION_SUBMITTED = "ApplicationSubmitted"
APPLICATION_DECIDED = "ApplicationDecided"
CONSUMED_EVENTS = (APPLICATION_SUBMITTED, APPLICATION_DECIDED)
LOCAL_DAY_OFFSET = dt.timedelta(hours=8)  # Asia/Shanghai has no daylight saving


def _local_day(payload: dict[str, object]) -> dt.date:
    at = dt.datetime.fromisoformat(str(payload["at"]))
    if at.tzinfo is None:
        raise ValueError("event time without a timezone")
    return (at.astimezone(dt.UTC) + LOCAL_DAY_OFFSET).date()


async def handle_event(event: DomainEvent) -> StageMove | None:
    """Apply one approvals event to its project; returns the move made, None when nothing changed."""
    if event.name not in CONSUMED_EVENTS:
        return None
    payload = dict(event.payload)
    project_code = str(payload["project_code"])
    async with in_transaction() as conn:
        project = await Project.filter(code=project_code).using_db(conn).select_for_update().first()
        if project is None:
            log.warning("project progress: %s names unknown project %s", event.name, project_code)
            return None
        if event.name == APPLICATION_SUBMITTED:
            move = on_submitted(project.stage)
        else:
            move = on_decided(
                project.stage,
                approval_stage=str(payload["stage"]),
                status=str(payload["status"]),
                day=_local_day(payload),
                actual_start=project.actual_start,
                actual_end=project.actual_end,
            )
        if move is None:
            return None
        await _apply(project, move, conn=conn)
    log.info(
        "project %s is now %s (%s %s)",
        project_code,
        PROJECT_STAGE_LABELS[move.stage],
        event.name,
        event.event_id,
    )
    return move


async def _apply(project: Project, move: StageMove, *, conn: BaseDBAsyncClient) -> None:
    project.stage = move.stage
    fields = ["stage"]
    for name in ("actual_start", "actual_end", "progress_pct"):
        value = getattr(move, name)
        if value is not None and getattr(project, name) != value:
            setattr(project, name, value)
            fields.append(name)
    await project.save(update_fields=fields, using_db=conn)
    day = move.actual_end or move.actual_start
    if move.milestone and day is not None:
        reached = Milestone.filter(project_id=project.id, name=move.milestone, actual_date__isnull=True)
        await reached.using_db(conn).update(actual_date=day)


async def run_progress_consumer(bus: EventBus, *, consumer: str) -> None:
    log.info("project progress consumer %s started on %s", consumer, ", ".join(CONSUMED_EVENTS))
    await run_consumer(
        bus, group=CONSUMER_GROUP, consumer=consumer, event_names=CONSUMED_EVENTS, handle=handle_event
    )
