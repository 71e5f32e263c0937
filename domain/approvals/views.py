"""Projections of approvals for the doors (mini-program, staff console, bot): plain JSON-ready dicts.

Times are shown in Asia/Shanghai. An enterprise sees its own applications whole; staff see the same,
but only for applications on which their department has a task (checked by the services).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.approvals import messages
from domain.approvals.checks import ChecklistLine, checklist
from domain.approvals.clocks import SlaState, sla_state
from domain.approvals.models import (
    Application,
    ClockPause,
    CorrectionNotice,
    Material,
    ReviewTask,
    TimelineEntry,
)
from domain.approvals.reviews import task_sla
from domain.approvals.rules import APPLICATION_STATUS_LABELS, TASK_STATUS_LABELS
from domain.approvals.services import ApprovalsEnv, current_materials, shanghai_iso, stage_of, stored


def material_view(material: Material) -> dict[str, Any]:
    return {
        "key": material.key,
        "version": material.version,
        "kind": material.kind,
        "size": material.size,
        "pages": material.pages,
        "filename": material.filename,
        "sha256": material.ref.split(".", 1)[0],
        "uploaded_at": shanghai_iso(material.uploaded_at),
    }


def checklist_view(lines: list[ChecklistLine]) -> dict[str, Any]:
    return {
        "complete": not any(line.missing for line in lines),
        "missing": [line.key for line in lines if line.missing],
        "lines": [
            {
                "key": line.key,
                "name": line.name,
                "types": list(line.types),
                "required": line.required,
                "condition": line.condition,
                "applies": line.applies,
                "items": list(line.items),
                "uploaded_version": line.uploaded_version,
                "missing": line.missing,
            }
            for line in lines
        ],
    }


async def application_checklist(env: ApprovalsEnv, application: Application) -> dict[str, Any]:
    materials = await current_materials(application)
    lines = checklist(
        stage_of(env, application), application.fields_data, {key: stored(m) for key, m in materials.items()}
    )
    return checklist_view(lines)


def task_view(
    env: ApprovalsEnv, task: ReviewTask, application: Application, *, now: dt.datetime
) -> dict[str, Any]:
    return {
        "id": task.id,
        "department": task.department,
        "department_name": messages.department_name(task.department),
        "is_lead": task.is_lead,
        "status": task.status.value,
        "status_label": TASK_STATUS_LABELS[task.status],
        "limit_working_days": task.limit_days,
        "started_at": shanghai_iso(task.started_at),
        "due_at": shanghai_iso(task.due_at),
        "paused_working_days": task.paused_days,
        "sla": task_sla(env, task, application, now=now).value,
        "comment": task.comment,
        "correction_materials": list(task.correction_materials),
        "decided_at": shanghai_iso(task.decided_at),
    }


def summary_view(env: ApprovalsEnv, application: Application, *, now: dt.datetime) -> dict[str, Any]:
    stage = env.catalogue.stage(application.stage)
    done = application.status.value in ("approved", "rejected")
    state = SlaState.DONE if done else SlaState.ON_TRACK
    if application.due_at is not None and not done:
        state = sla_state(
            env.calendar,
            due=application.due_at,
            now=now,
            done=False,
            paused=application.paused_at is not None,
            due_soon_days=env.catalogue.due_soon_working_days,
        )
    return {
        "code": application.code,
        "project_code": application.project_code,
        "stage": application.stage,
        "stage_name": stage.name if stage else application.stage,
        "status": application.status.value,
        "status_label": APPLICATION_STATUS_LABELS[application.status],
        "round": application.round,
        "due_at": shanghai_iso(application.due_at),
        "sla": state.value,
        "paused": application.paused_at is not None,
        "pause_reason": application.pause_reason,
        "created_at": shanghai_iso(application.created_at),
        "first_submitted_at": shanghai_iso(application.first_submitted_at),
        "decided_at": shanghai_iso(application.decided_at),
        "rejection_reason": application.rejection_reason,
    }


async def detail_view(env: ApprovalsEnv, application: Application, *, now: dt.datetime) -> dict[str, Any]:
    tasks = await ReviewTask.filter(application_id=application.id).order_by("-is_lead", "id")
    notices = await CorrectionNotice.filter(application_id=application.id).order_by("round")
    timeline = await TimelineEntry.filter(application_id=application.id).order_by("id")
    pauses = await ClockPause.filter(application_id=application.id).order_by("id")
    return summary_view(env, application, now=now) | {
        "enterprise_uscc": application.enterprise_uscc,
        "fields": application.fields_data,
        "submitted_material_versions": application.material_versions,
        "checklist": await application_checklist(env, application),
        "tasks": [task_view(env, task, application, now=now) for task in tasks],
        "correction_notices": [
            {
                "round": n.round,
                "issued_at": shanghai_iso(n.issued_at),
                "answered_at": shanghai_iso(n.answered_at),
                "answer": n.answer,
                **n.content,
            }
            for n in notices
        ],
        "pauses": [
            {
                "reason": p.reason,
                "paused_at": shanghai_iso(p.paused_at),
                "resumed_at": shanghai_iso(p.resumed_at),
                "working_days": p.working_days,
            }
            for p in pauses
        ],
        "timeline": [
            {"at": shanghai_iso(e.at), "actor": e.actor, "action": e.action, "detail": e.detail}
            for e in timeline
        ],
    }
