"""Staff side of approvals: decisions on review tasks, the consolidated correction notice, clock
pause/resume, the SLA review queue, reminders to reviewers and working-day statistics."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from domain.accounts.rules import Principal, Role
from domain.approvals import events, messages
from domain.approvals.clocks import SlaState, due_at, elapsed_working_days, paused_working_days, sla_state
from domain.approvals.materials import submitted_refs
from domain.approvals.models import Application, ClockPause, CorrectionNotice, ReviewTask
from domain.approvals.rules import (
    ApplicationStatus,
    CorrectionRequest,
    TaskDecision,
    TaskStatus,
    consolidate,
    next_application_status,
    next_task_status,
    outcome_of,
)
from domain.approvals.services import (
    ApprovalsEnv,
    actor_of,
    add_timeline,
    load_visible,
    notify_enterprise,
    shanghai_iso,
    stage_of,
)
from domain.calendar.rules import SHANGHAI
from domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from domain.events import DomainEvent
from domain.notifications.rules import TemplateContent
from domain.notifications.services import enqueue
from domain.outbox import services as outbox

log = logging.getLogger(__name__)

ReviewerLookup = Callable[[str], Awaitable[Sequence[str]]]


def department_of(principal: Principal) -> str:
    if principal.role is Role.ADMIN:
        return principal.department
    if principal.role is not Role.STAFF or not principal.department:
        raise Forbidden("only department staff may review", code="not_reviewer")
    return principal.department


async def decide(
    env: ApprovalsEnv,
    principal: Principal,
    task_id: int,
    *,
    decision: TaskDecision,
    comment: str,
    materials: Sequence[str] = (),
    now: dt.datetime,
) -> ReviewTask:
    department = department_of(principal)
    comment = comment.strip()
    if decision is not TaskDecision.APPROVE and not comment:
        raise ValidationFailed("a rejection or correction request needs a comment", code="comment_required")
    outcome: ApplicationStatus | None = None
    async with in_transaction() as conn:
        task, application = await _lock_open_task(principal, task_id, department=department, conn=conn)
        task.status = next_task_status(task.status, decision)
        task.comment, task.decided_by, task.decided_at = comment[:1000], actor_of(principal), now
        task.correction_materials = list(dict.fromkeys(materials))[:50]
        await task.save(using_db=conn)
        await add_timeline(
            application,
            actor=actor_of(principal),
            action=f"task_{decision.value}",
            at=now,
            conn=conn,
            department=task.department,
            comment=task.comment,
            materials=task.correction_materials,
        )
        outcome = await _outcome_now(application, conn=conn)
        if outcome is not None:
            await _conclude(env, application, outcome, reason=task.comment, now=now, conn=conn)
            await _publish_outcome(application, outcome, now=now)
    return task


async def _lock_open_task(
    principal: Principal, task_id: int, *, department: str, conn: BaseDBAsyncClient
) -> tuple[ReviewTask, Application]:
    """The task and its application, locked, once both are in a state that can take a decision."""
    task = await ReviewTask.filter(id=task_id).using_db(conn).first()
    if task is None or (principal.role is not Role.ADMIN and task.department != department):
        raise NotFound("no such review task in your department", code="task_not_found")
    application = await Application.filter(id=task.application_id).using_db(conn).select_for_update().get()
    task = await ReviewTask.get(id=task_id, using_db=conn)  # re-read under the application lock
    if application.status is not ApplicationStatus.UNDER_REVIEW:
        raise Conflict("the application is not under review", code="not_under_review")
    if application.paused_at is not None:
        raise Conflict("the clock is paused: resume it before deciding", code="clock_paused")
    return task, application


async def _outcome_now(application: Application, *, conn: BaseDBAsyncClient) -> ApplicationStatus | None:
    statuses = (
        await ReviewTask.filter(application_id=application.id).using_db(conn).values_list("status", flat=True)
    )
    return outcome_of(TaskStatus(str(s)) for s in statuses)


async def _conclude(
    env: ApprovalsEnv,
    application: Application,
    outcome: ApplicationStatus,
    *,
    reason: str,
    now: dt.datetime,
    conn: Any,
) -> None:
    application.status = next_application_status(application.status, outcome)
    if outcome is ApplicationStatus.CORRECTION_REQUIRED:
        asked = (
            await ReviewTask.filter(application_id=application.id, status=TaskStatus.CORRECTION_REQUESTED)
            .using_db(conn)
            .order_by("id")
        )
        content = consolidate(
            [CorrectionRequest(t.department, t.comment, tuple(t.correction_materials)) for t in asked]
        )
        await CorrectionNotice.create(
            application=application, round=application.round, content=content, issued_at=now, using_db=conn
        )
        await application.save(using_db=conn)
        await add_timeline(
            application, actor="system", action="correction_notice", at=now, conn=conn, **content
        )
        summary = "；".join(
            f"{messages.department_name(d['department'])}：{d['comment']}" for d in content["departments"]
        )
        await notify_enterprise(
            env, application, messages.CORRECTION, key="correction", now=now, summary=summary
        )
        return
    application.decided_at = now
    if outcome is ApplicationStatus.REJECTED:
        application.rejection_reason = reason[:500]
    await application.save(using_db=conn)
    await add_timeline(application, actor="system", action=outcome.value, at=now, conn=conn, reason=reason)
    template = messages.APPROVED if outcome is ApplicationStatus.APPROVED else messages.REJECTED
    await notify_enterprise(env, application, template, key=outcome.value, now=now, reason=reason)


async def _publish_outcome(application: Application, outcome: ApplicationStatus, *, now: dt.datetime) -> None:
    """Into the event outbox, inside the deciding transaction (``in_transaction`` joins it)."""
    base = {
        "code": application.code,
        "project_code": application.project_code,
        "material_versions": dict(application.material_versions or {}),
        "file_refs": await submitted_refs(application),
        "at": now.isoformat(),
    }
    if outcome is ApplicationStatus.CORRECTION_REQUIRED:
        departments = await ReviewTask.filter(
            application_id=application.id, status=TaskStatus.CORRECTION_REQUESTED
        ).values_list("department", flat=True)
        event = DomainEvent(
            events.CORRECTION_NOTICE_ISSUED,
            base | {"round": application.round, "departments": list(departments)},
        )
    else:
        event = DomainEvent(
            events.APPLICATION_DECIDED,
            base
            | {"stage": application.stage, "status": outcome.value, "reason": application.rejection_reason},
        )
    await outbox.append(event, aggregate=f"application:{application.code}", now=now)


# --- clock pause / resume ------------------------------------------------------------------------------


async def pause_clock(
    env: ApprovalsEnv, principal: Principal, code: str, *, reason: str, now: dt.datetime
) -> None:
    """Expert review, hearing or test (行政许可法: not counted in the time limit); the reason is recorded."""
    department_of(principal)
    reason = reason.strip()
    if not reason or len(reason) > 200:
        raise ValidationFailed("a reason of 1 to 200 characters is required", code="reason_required")
    async with in_transaction() as conn:
        application = await load_visible(principal, code, conn=conn, lock=True)
        if application.status is not ApplicationStatus.UNDER_REVIEW:
            raise Conflict("only an application under review has a running clock", code="not_under_review")
        if application.paused_at is not None:
            raise Conflict("the clock is already paused", code="already_paused")
        application.paused_at, application.pause_reason = now, reason
        await application.save(using_db=conn)
        await ClockPause.create(
            application=application,
            reason=reason,
            paused_by=actor_of(principal),
            paused_at=now,
            using_db=conn,
        )
        await add_timeline(
            application, actor=actor_of(principal), action="clock_paused", at=now, conn=conn, reason=reason
        )


async def resume_clock(env: ApprovalsEnv, principal: Principal, code: str, *, now: dt.datetime) -> int:
    """Restart the clocks; every deadline moves by the working days the clock stood still."""
    department_of(principal)
    async with in_transaction() as conn:
        application = await load_visible(principal, code, conn=conn, lock=True)
        if application.paused_at is None:
            raise Conflict("the clock is not paused", code="not_paused")
        days = paused_working_days(env.calendar, paused_at=application.paused_at, resumed_at=now)
        _restart_application_clock(env, application, paused_days=days)
        await application.save(using_db=conn)
        await _extend_open_tasks(env, application, paused_days=days, conn=conn)
        await (
            ClockPause.filter(application_id=application.id, resumed_at=None)
            .using_db(conn)
            .update(resumed_at=now, working_days=days)
        )
        await add_timeline(
            application,
            actor=actor_of(principal),
            action="clock_resumed",
            at=now,
            conn=conn,
            paused_working_days=days,
            due_at=shanghai_iso(application.due_at),
        )
    return days


def _restart_application_clock(env: ApprovalsEnv, application: Application, *, paused_days: int) -> None:
    application.paused_at, application.pause_reason = None, ""
    application.paused_days += paused_days
    application.total_paused_days += paused_days
    stage = stage_of(env, application)
    assert application.clock_started_at is not None  # set on submit, which precedes any pause
    application.due_at = due_at(
        env.calendar,
        started_at=application.clock_started_at,
        limit_days=stage.time_limit_days,
        paused_days=application.paused_days,
    )


async def _extend_open_tasks(
    env: ApprovalsEnv, application: Application, *, paused_days: int, conn: BaseDBAsyncClient
) -> None:
    """Tasks still in review move their deadline too; decided ones keep the clock they finished on."""
    open_tasks = ReviewTask.filter(application_id=application.id, status=TaskStatus.IN_REVIEW)
    for task in await open_tasks.using_db(conn):
        task.paused_days += paused_days
        task.due_at = due_at(
            env.calendar,
            started_at=task.started_at,
            limit_days=task.limit_days,
            paused_days=task.paused_days,
        )
        await task.save(using_db=conn)


# --- queue, reminders, statistics --------------------------------------------------------------------


def task_sla(env: ApprovalsEnv, task: ReviewTask, application: Application, *, now: dt.datetime) -> SlaState:
    return sla_state(
        env.calendar,
        due=task.due_at,
        now=now,
        done=task.status is not TaskStatus.IN_REVIEW,
        paused=application.paused_at is not None,
        due_soon_days=env.catalogue.due_soon_working_days,
    )


async def review_queue(
    env: ApprovalsEnv,
    principal: Principal,
    *,
    now: dt.datetime,
    include_decided: bool = False,
    limit: int = 100,
) -> list[tuple[ReviewTask, Application, SlaState]]:
    department = department_of(principal)
    query = ReviewTask.filter(application__status=ApplicationStatus.UNDER_REVIEW)
    if department:
        query = query.filter(department=department)
    if not include_decided:
        query = query.filter(status=TaskStatus.IN_REVIEW)
    tasks = await query.order_by("due_at", "id").limit(limit).prefetch_related("application")
    return [(t, t.application, task_sla(env, t, t.application, now=now)) for t in tasks]


async def send_reminders(env: ApprovalsEnv, *, now: dt.datetime, reviewers: ReviewerLookup) -> int:
    """Due-soon and overdue tasks: one reminder per task, state and Shanghai day to each reviewer."""
    queued = 0
    tasks = await ReviewTask.filter(
        status=TaskStatus.IN_REVIEW,
        application__status=ApplicationStatus.UNDER_REVIEW,
        application__paused_at__isnull=True,
    ).prefetch_related("application")
    for task in tasks:
        state = task_sla(env, task, task.application, now=now)
        if state not in (SlaState.DUE_SOON, SlaState.OVERDUE):
            continue
        template = messages.REMINDER_OVERDUE if state is SlaState.OVERDUE else messages.REMINDER_DUE_SOON
        stage = env.catalogue.stage(task.application.stage)
        text = template.format(
            department=messages.department_name(task.department),
            code=task.application.code,
            stage=stage.name if stage else task.application.stage,
            due=task.due_at.astimezone(SHANGHAI).strftime("%Y-%m-%d"),
        )
        day = now.astimezone(SHANGHAI).date().isoformat()
        for openid in await reviewers(task.department):
            await enqueue(
                recipient_openid=openid,
                text=text,
                category="approval_reminder",
                now=now,
                idempotency_key=f"approval-reminder:{task.id}:{state.value}:{day}:{openid}",
                template=TemplateContent(
                    messages.REMINDER_TEMPLATE,
                    {
                        "character_string1": task.application.code,
                        "thing2": f"{stage.name if stage else ''}审查{messages.SLA_WORDS[state.value]}"[:20],
                        "time3": task.due_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
                    },
                ),
            )
            queued += 1
    return queued


async def working_day_statistics(
    env: ApprovalsEnv, *, since: dt.datetime, until: dt.datetime
) -> dict[str, list[dict[str, Any]]]:
    """Working days from first submission to decision per stage, and per department task (pauses excluded).

    For the reports issue: ``{"stages": [{stage, name, count, average, max}], "departments": [...]}``.
    """
    applications = await Application.filter(
        decided_at__gte=since, decided_at__lt=until, first_submitted_at__isnull=False
    )
    per_stage: dict[str, list[int]] = {}
    for app in applications:
        assert app.first_submitted_at is not None and app.decided_at is not None
        per_stage.setdefault(app.stage, []).append(
            elapsed_working_days(
                env.calendar,
                start=app.first_submitted_at,
                end=app.decided_at,
                paused_days=app.total_paused_days,
            )
        )
    tasks = await ReviewTask.filter(
        decided_at__gte=since, decided_at__lt=until, status__in=[TaskStatus.APPROVED, TaskStatus.REJECTED]
    )
    per_department: dict[str, list[int]] = {}
    for task in tasks:
        assert task.decided_at is not None
        per_department.setdefault(task.department, []).append(
            elapsed_working_days(
                env.calendar, start=task.started_at, end=task.decided_at, paused_days=task.paused_days
            )
        )
    return {
        "stages": [_summary(key, _stage_name(env, key), days) for key, days in sorted(per_stage.items())],
        "departments": [
            _summary(key, messages.department_name(key), days) for key, days in sorted(per_department.items())
        ],
    }


def _stage_name(env: ApprovalsEnv, key: str) -> str:
    stage = env.catalogue.stage(key)
    return stage.name if stage else key


def _summary(key: str, name: str, days: list[int]) -> dict[str, Any]:
    return {
        "key": key,
        "name": name,
        "count": len(days),
        "average_working_days": round(sum(days) / len(days), 2),
        "max_working_days": max(days),
    }
