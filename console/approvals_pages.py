"""Approval review pages: the department's review queue (deadlines and SLA, polled by htmx), one
application with its materials previewed in the browser (PDF and images, the version submitted), the
checklist, the correction notices and the timeline, and the department's decision. Same services and
scoping as ``/api/v1/approvals/review/...``: a reviewer sees only applications on which their
department has a task, and decides only their department's task."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast
from urllib.parse import quote

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw, redirect
from sanic_ext import openapi

from console.forms import arg_int, arg_text, form_text
from console.guard import current, page
from console.templating import render
from domain.accounts.rules import Role
from domain.approvals import reviews, services, views
from domain.approvals.access import ApprovalsEnv
from domain.approvals.rules import TaskDecision
from domain.errors import NotFound, ValidationFailed

console_approvals = Blueprint("console_approvals", url_prefix="/console/approvals")
STAFF = (Role.STAFF,)
MAX_TASK_ID = 2**31 - 1
SLA_LABELS = {
    "on_track": "正常",
    "due_soon": "即将到期",
    "overdue": "已超期",
    "paused": "暂停计时",
    "done": "已办结",
}
DECISIONS = {
    TaskDecision.APPROVE: "通过",
    TaskDecision.REQUEST_CORRECTION: "要求补正（一次性告知）",
    TaskDecision.REJECT: "不通过",
}
TIMELINE_LABELS = {
    "created": "创建申请",
    "edited": "修改申请信息",
    "materials_uploaded": "上传材料",
    "submitted": "提交申请",
    "under_review": "进入并联审查",
    "task_approve": "部门审查通过",
    "task_reject": "部门审查不通过",
    "task_request_correction": "部门要求补正",
    "correction_notice": "一次性补正告知",
    "correction_answered": "申请人补正",
    "clock_paused": "暂停计时",
    "clock_resumed": "恢复计时",
    "approved": "准予许可",
    "rejected": "不予许可",
}
DONE_NOTICES = {
    "approve": "本部门审查意见：通过",
    "request_correction": "已要求补正；各部门意见汇总后一次性告知申请人",
    "reject": "本部门审查意见：不通过",
}
# Shown inline in the browser: the reviewer reads the PDF or image without downloading it.
INLINE_KINDS = {"pdf", "jpeg", "png"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _env(request: Request) -> ApprovalsEnv:
    return cast(ApprovalsEnv, request.app.ctx.runtime.approvals)


async def _queue_context(request: Request) -> dict[str, Any]:
    env, now = _env(request), _now()
    include_decided = bool(arg_int(request, "include_decided", default=0, low=0, high=1))
    rows = await reviews.review_queue(env, current(request), now=now, include_decided=include_decided)
    items = [
        views.task_view(env, task, application, now=now)
        | {"application": views.summary_view(env, application, now=now)}
        for task, application, _state in rows
    ]
    return {
        "items": items,
        "include_decided": include_decided,
        "sla_labels": SLA_LABELS,
        "refreshed_at": now,
    }


@console_approvals.get("/")
@openapi.exclude()
@page(*STAFF)
async def queue_page(request: Request) -> HTTPResponse:
    return render(request, "approvals.html", **await _queue_context(request))


@console_approvals.get("/rows")
@openapi.exclude()
@page(*STAFF)
async def queue_rows(request: Request) -> HTTPResponse:
    """The table body alone: htmx polls it so newly submitted applications appear without a reload."""
    return render(request, "_approval_rows.html", **await _queue_context(request))


@console_approvals.get("/<code:str>")
@openapi.exclude()
@page(*STAFF)
async def application_page(request: Request, code: str) -> HTTPResponse:
    env, now, principal = _env(request), _now(), current(request)
    application = await services.load_visible(principal, code[:20])
    detail = await views.detail_view(env, application, now=now)
    mine = [
        task
        for task in detail["tasks"]
        if task["department"] == principal.department and task["status"] == "in_review"
    ]
    submitted = detail["submitted_material_versions"] or {}
    materials = [
        line | {"version": submitted.get(line["key"]) or line["uploaded_version"]}
        for line in detail["checklist"]["lines"]
        if line["applies"] and (submitted.get(line["key"]) or line["uploaded_version"])
    ]
    return render(
        request,
        "approval.html",
        app=detail,
        materials=materials,
        my_task=mine[0] if mine else None,
        material_names={line["key"]: line["name"] for line in detail["checklist"]["lines"]},
        decisions=DECISIONS,
        sla_labels=SLA_LABELS,
        timeline_labels=TIMELINE_LABELS,
        preview=arg_text(request, "preview", max_length=64),
        done=DONE_NOTICES.get(arg_text(request, "done", max_length=32), ""),
    )


@console_approvals.get("/<code:str>/materials/<key:str>")
@openapi.exclude()
@page(*STAFF)
async def material_file(request: Request, code: str, key: str) -> HTTPResponse:
    """One material as submitted, shown inline (PDF viewer or image); other kinds are downloaded."""
    version = arg_int(request, "version", default=0, low=0, high=10_000) or None
    material, data = await services.open_material(
        _env(request), current(request), code[:20], key[:64], version=version
    )
    kind = services.CONTENT_TYPES.get(material.kind, "application/octet-stream")
    disposition = "inline" if material.kind in INLINE_KINDS else "attachment"
    filename = quote(material.filename or f"{material.key}.{material.kind}")
    return raw(
        data,
        content_type=kind,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{filename}",
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
            # Framed by the application page only (the preview), never by another site.
            "Content-Security-Policy": "frame-ancestors 'self'",
        },
    )


@console_approvals.post("/tasks/<task_id:int>/decision")
@openapi.exclude()
@page(*STAFF)
async def decide(request: Request, task_id: int) -> HTTPResponse:
    if not 0 < task_id <= MAX_TASK_ID:
        raise NotFound("no such review task in your department", code="task_not_found")
    try:
        decision = TaskDecision(form_text(request, "decision", max_length=32, required=True))
    except ValueError as error:
        raise ValidationFailed("请选择审查意见", code="invalid_decision") from error
    form: Any = request.form or {}
    materials = [str(value)[:64] for value in (form.getlist("materials") or [])][:50]
    task = await reviews.decide(
        _env(request),
        current(request),
        task_id,
        decision=decision,
        comment=form_text(request, "comment", max_length=1000),
        materials=materials,
        now=_now(),
    )
    application = await task.application
    return redirect(f"/console/approvals/{application.code}?done={decision.value}", status=303)
