"""Approval use cases for enterprises: drafts, submit, and the one answer to a correction notice.

Materials (upload once) are in ``materials``; staff decisions, clock pauses, SLA reminders and
statistics are in ``reviews``. Every state change runs in one transaction with the application row
locked, writes its timeline entry, and queues its notifications in the outbox inside that transaction
(so a rollback never leaves a message behind).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from domain.accounts.rules import Principal
from domain.approvals import events, messages
from domain.approvals.access import (
    EDITABLE,
    ApprovalsEnv,
    BlobStore,
    actor_of,
    add_timeline,
    enterprise_of,
    find_by_code,
    find_by_openid,
    list_own,
    load_visible,
    shanghai_iso,
    stage_of,
)
from domain.approvals.checks import ApplicationRejected, clean_fields, submit_problems, validate_project_code
from domain.approvals.clocks import due_at
from domain.approvals.materials import (
    CONTENT_TYPES,
    Upload,
    current_materials,
    open_material,
    stored,
    submitted_refs,
    upload_materials,
)
from domain.approvals.models import Application, ApplicationSequence, CorrectionNotice, Material, ReviewTask
from domain.approvals.rules import (
    ApplicationStatus,
    TaskStatus,
    format_application_code,
    next_application_status,
)
from domain.calendar.rules import SHANGHAI, local_date
from domain.errors import Conflict, ValidationFailed
from domain.events import DomainEvent
from domain.notifications.rules import TemplateContent
from domain.notifications.services import enqueue
from domain.outbox import services as outbox

# The use-case facade: the doors import everything approvals offers from here.
__all__ = [
    "CONTENT_TYPES",
    "ApprovalsEnv",
    "BlobStore",
    "Upload",
    "actor_of",
    "add_timeline",
    "create_draft",
    "current_materials",
    "enterprise_of",
    "find_by_code",
    "find_by_openid",
    "list_own",
    "load_visible",
    "notify_enterprise",
    "open_material",
    "resubmit",
    "shanghai_iso",
    "stage_of",
    "stored",
    "submit",
    "update_draft",
    "upload_materials",
]

log = logging.getLogger(__name__)

# --- drafts ---------------------------------------------------------------------------------------------


async def _next_code(year: int, conn: BaseDBAsyncClient) -> str:
    # The UPDATE holds the row lock until commit, so concurrent creations queue instead of colliding.
    await ApplicationSequence.get_or_create(year=year, using_db=conn)
    await ApplicationSequence.filter(year=year).using_db(conn).update(last_number=F("last_number") + 1)
    row = await ApplicationSequence.get(year=year, using_db=conn)
    return format_application_code(year, row.last_number)


async def create_draft(
    env: ApprovalsEnv,
    principal: Principal,
    *,
    project_code: str,
    stage: str,
    fields: dict[str, Any],
    now: dt.datetime,
) -> Application:
    uscc = enterprise_of(principal)
    project_code = validate_project_code(project_code)
    if env.catalogue.stage(stage) is None:
        raise ValidationFailed(f"unknown stage {stage!r}", code="unknown_stage")
    cleaned, problems = clean_fields(fields)
    if problems:
        raise ValidationFailed("the form has problems", code="invalid_fields", problems=problems)
    cleaned.setdefault("applicant_uscc", uscc)
    async with in_transaction() as conn:
        code = await _next_code(local_date(now).year, conn)
        application = await Application.create(
            code=code,
            project_code=project_code,
            enterprise_uscc=uscc,
            stage=stage,
            fields_data=cleaned,
            notify_openid=principal.openid,
            using_db=conn,
        )
        await add_timeline(
            application, actor=actor_of(principal), action="created", at=now, conn=conn, stage=stage
        )
    log.info("approval draft %s created for project %s stage %s", code, project_code, stage)
    return application


async def update_draft(
    env: ApprovalsEnv, principal: Principal, code: str, *, fields: dict[str, Any], now: dt.datetime
) -> Application:
    enterprise_of(principal)
    cleaned, problems = clean_fields(fields)
    if problems:
        raise ValidationFailed("the form has problems", code="invalid_fields", problems=problems)
    async with in_transaction() as conn:
        application = await load_visible(principal, code, conn=conn, lock=True)
        if application.status not in EDITABLE:
            raise Conflict(
                "only a draft or an application awaiting correction can be edited", code="not_editable"
            )
        application.fields_data = {**application.fields_data, **cleaned}
        if principal.openid:
            application.notify_openid = principal.openid
        await application.save(using_db=conn)
        await add_timeline(
            application, actor=actor_of(principal), action="edited", at=now, conn=conn, fields=sorted(cleaned)
        )
    return application


# --- submit and resubmit -------------------------------------------------------------------------------


async def _check_or_raise(
    env: ApprovalsEnv, application: Application, *, now: dt.datetime
) -> dict[str, Material]:
    materials = await current_materials(application)
    problems = submit_problems(
        catalogue=env.catalogue,
        stage_key=application.stage,
        fields=application.fields_data,
        uploaded={key: stored(m) for key, m in materials.items()},
        max_bytes=env.max_file_bytes,
        today=local_date(now),
    )
    if problems:
        raise ApplicationRejected("the application did not pass the automatic checks", problems=problems)
    return materials


async def submit(env: ApprovalsEnv, principal: Principal, code: str, *, now: dt.datetime) -> Application:
    enterprise_of(principal)
    async with in_transaction() as conn:
        application = await load_visible(principal, code, conn=conn, lock=True)
        next_application_status(application.status, ApplicationStatus.SUBMITTED)
        materials = await _check_or_raise(env, application, now=now)
        stage = stage_of(env, application)
        application.first_submitted_at = now
        await _start_round(env, application, materials, actor=actor_of(principal), now=now, conn=conn)
        departments = stage.departments(application.fields_data)
        limits = {d: stage.department_limit(d, application.fields_data) for d in departments}
        for department in departments:
            await ReviewTask.create(
                application=application,
                department=department.value,
                is_lead=department == stage.lead,
                limit_days=limits[department],
                started_at=now,
                due_at=due_at(env.calendar, started_at=now, limit_days=limits[department], paused_days=0),
                using_db=conn,
            )
        await notify_enterprise(
            env,
            application,
            messages.SUBMITTED,
            key="submitted",
            now=now,
            departments="、".join(messages.department_name(d) for d in departments),
        )
        await _publish_submitted(application, now=now)
    return application


async def resubmit(
    env: ApprovalsEnv, principal: Principal, code: str, *, answer: str, now: dt.datetime
) -> Application:
    """The one answer to the consolidated notice: checks again, then the asking departments review again."""
    enterprise_of(principal)
    async with in_transaction() as conn:
        application = await load_visible(principal, code, conn=conn, lock=True)
        next_application_status(application.status, ApplicationStatus.SUBMITTED)
        materials = await _check_or_raise(env, application, now=now)
        await (
            CorrectionNotice.filter(application_id=application.id, round=application.round)
            .using_db(conn)
            .update(answered_at=now, answer=answer[:1000])
        )
        await add_timeline(
            application,
            actor=actor_of(principal),
            action="correction_answered",
            at=now,
            conn=conn,
            round=application.round,
            answer=answer[:1000],
        )
        await _start_round(env, application, materials, actor=actor_of(principal), now=now, conn=conn)
        tasks = await ReviewTask.filter(
            application_id=application.id, status=TaskStatus.CORRECTION_REQUESTED
        ).using_db(conn)
        for task in tasks:
            # 补正: the legal clock counts again from the day complete materials arrive.
            task.status = TaskStatus.IN_REVIEW
            task.started_at, task.paused_days, task.decided_at = now, 0, None
            task.due_at = due_at(env.calendar, started_at=now, limit_days=task.limit_days, paused_days=0)
            await task.save(using_db=conn)
        await _publish_submitted(application, now=now)
    return application


async def _start_round(
    env: ApprovalsEnv,
    application: Application,
    materials: dict[str, Material],
    *,
    actor: str,
    now: dt.datetime,
    conn: BaseDBAsyncClient,
) -> None:
    stage = stage_of(env, application)
    application.status = ApplicationStatus.SUBMITTED
    await add_timeline(
        application,
        actor=actor,
        action="submitted",
        at=now,
        conn=conn,
        round=application.round + 1,
        materials={k: m.version for k, m in materials.items()},
    )
    application.status = next_application_status(application.status, ApplicationStatus.UNDER_REVIEW)
    application.round += 1
    application.material_versions = {key: m.version for key, m in materials.items()}
    application.clock_started_at, application.paused_days = now, 0
    application.due_at = due_at(env.calendar, started_at=now, limit_days=stage.time_limit_days, paused_days=0)
    await application.save(using_db=conn)
    await add_timeline(
        application,
        actor="system",
        action="under_review",
        at=now,
        conn=conn,
        due_at=shanghai_iso(application.due_at),
    )


async def _publish_submitted(application: Application, *, now: dt.datetime) -> None:
    """Into the event outbox, inside the caller's transaction (``in_transaction`` joins it)."""
    departments = await ReviewTask.filter(application_id=application.id).values_list("department", flat=True)
    await outbox.append(
        DomainEvent(
            events.APPLICATION_SUBMITTED,
            {
                "code": application.code,
                "project_code": application.project_code,
                "stage": application.stage,
                "round": application.round,
                "departments": list(departments),
                "material_versions": dict(application.material_versions or {}),
                "file_refs": await submitted_refs(application),
                "at": now.isoformat(),
            },
        ),
        aggregate=f"application:{application.code}",
        now=now,
    )


async def notify_enterprise(
    env: ApprovalsEnv, application: Application, template: str, *, key: str, now: dt.datetime, **values: str
) -> None:
    """One outbox message per decision; the template form lets it go out when no chat window is open."""
    if not application.notify_openid:
        return
    stage = stage_of(env, application)
    text = template.format(code=application.code, stage=stage.name, due=_short(application.due_at), **values)
    project = str(application.fields_data.get("project_name") or application.project_code)
    await enqueue(
        recipient_openid=application.notify_openid,
        text=text,
        idempotency_key=f"approval:{application.code}:{application.round}:{key}",
        category="approval",
        template=TemplateContent(
            messages.DECISION_TEMPLATE,
            {
                "character_string1": application.code,
                "thing2": project[:20],
                "phrase3": messages.DECISION_PHRASES[key],
                "time4": now.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
            },
        ),
        now=now,
    )


def _short(moment: dt.datetime | None) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d") if moment else "-"
