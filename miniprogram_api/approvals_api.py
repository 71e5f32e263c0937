"""Approvals over HTTP: enterprises draft, upload once, submit and answer corrections; department staff
review in parallel, pause clocks and see their queue with SLA states."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, raw
from sanic_ext import openapi

from domain.accounts.rules import Role
from domain.approvals import reviews, services, views
from domain.approvals.rules import TaskDecision
from domain.calendar.rules import SHANGHAI
from domain.errors import NotFound, ValidationFailed
from miniprogram_api.approvals_input import (
    MATERIAL_KEY_RE,
    application_code,
    date_arg,
    form_fields,
    material_key,
    text_field,
    upload_of,
)
from miniprogram_api.auth import current, json_body, require
from miniprogram_api.context import runtime_of, settings_of
from miniprogram_api.openapi_errors import error_responses
from miniprogram_api.params import int_arg

approvals = Blueprint("approvals", url_prefix="/api/v1/approvals")

PROBLEMS = {"application/json": {"code": str, "message": str, "problems": [str]}}
FIELDS_SCHEMA = {
    "project_name": str,
    "applicant_uscc": str,
    "area_m2": float,
    "investment_wan": float,
    "planned_start": str,
    "planned_end": str,
}
MAX_FILES_PER_UPLOAD = 20
MAX_TASK_ID = 2**31 - 1


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def env_of(request: Request) -> services.ApprovalsEnv:
    return runtime_of(request).approvals


# --- catalogue --------------------------------------------------------------------------------------------


@approvals.get("/catalogue")
@openapi.summary("The approval catalogue: stages, items, departments, time limits, materials")
@openapi.response(200, {"application/json": {"stages": list}})
async def catalogue(request: Request) -> HTTPResponse:
    env = env_of(request)
    return json({"stages": [_stage_view(stage) for stage in env.catalogue.stages]})


def _stage_view(stage: Any) -> dict[str, Any]:
    return {
        "key": stage.key,
        "name": stage.name,
        "lead": stage.lead.value,
        "time_limit_working_days": stage.time_limit_days,
        "items": [
            {
                "key": item.key,
                "name": item.name,
                "department": item.department.value,
                "time_limit_working_days": item.time_limit_days,
                "condition": item.when.describe() if item.when else "",
                "materials": [
                    {
                        "key": m.key,
                        "name": m.name,
                        "types": list(m.types),
                        "required": m.required,
                        "condition": m.when.describe() if m.when else "",
                    }
                    for m in item.materials
                ],
            }
            for item in stage.items
        ],
    }


# --- enterprise -----------------------------------------------------------------------------------------


@approvals.post("/applications")
@openapi.summary("Create a draft application for a project and stage (enterprise)")
@openapi.body({"application/json": {"project_code": str, "stage": str, "fields": FIELDS_SCHEMA}})
@openapi.response(201, {"application/json": dict})
@openapi.response(400, PROBLEMS)
@error_responses(403)
@require(Role.ENTERPRISE)
async def create_application(request: Request) -> HTTPResponse:
    body = json_body(request)
    fields = form_fields(body)
    env = env_of(request)
    application = await services.create_draft(
        env,
        current(request),
        project_code=text_field(body, "project_code", max_length=16),
        stage=text_field(body, "stage", max_length=40),
        fields=fields,
        now=_now(),
    )
    return json(await views.detail_view(env, application, now=_now()), status=201)


@approvals.get("/applications")
@openapi.summary("The enterprise's own applications")
@openapi.response(200, {"application/json": {"items": list}})
@error_responses(403)
@require(Role.ENTERPRISE)
async def list_applications(request: Request) -> HTTPResponse:
    env = env_of(request)
    items = await services.list_own(current(request))
    return json({"items": [views.summary_view(env, a, now=_now()) for a in items]})


@approvals.get("/applications/<code:str>")
@openapi.summary("One application: tasks with due dates, checklist, correction notices, timeline")
@openapi.response(200, {"application/json": dict})
@error_responses(404)
@require(Role.ENTERPRISE, Role.STAFF)
async def get_application(request: Request, code: str) -> HTTPResponse:
    env = env_of(request)
    application = await services.load_visible(current(request), application_code(code))
    return json(await views.detail_view(env, application, now=_now()))


@approvals.patch("/applications/<code:str>")
@openapi.summary("Edit the form of a draft (or of an application awaiting correction)")
@openapi.body({"application/json": {"fields": FIELDS_SCHEMA}})
@openapi.response(200, {"application/json": dict})
@openapi.response(400, PROBLEMS)
@error_responses(404, 409)
@require(Role.ENTERPRISE)
async def edit_application(request: Request, code: str) -> HTTPResponse:
    fields = form_fields(json_body(request))
    env = env_of(request)
    application = await services.update_draft(
        env, current(request), application_code(code), fields=fields, now=_now()
    )
    return json(await views.detail_view(env, application, now=_now()))


@approvals.get("/applications/<code:str>/checklist")
@openapi.summary("Required materials of the stage, what is uploaded and what is missing")
@openapi.response(200, {"application/json": {"complete": bool, "missing": list, "lines": list}})
@error_responses(404)
@require(Role.ENTERPRISE, Role.STAFF)
async def get_checklist(request: Request, code: str) -> HTTPResponse:
    env = env_of(request)
    application = await services.load_visible(current(request), application_code(code))
    return json(await views.application_checklist(env, application))


@approvals.post("/applications/<code:str>/materials")
@openapi.summary("Upload materials (multipart: one file per form field named by the material key)")
@openapi.body(
    {
        "multipart/form-data": {
            "type": "object",
            "additionalProperties": {"type": "string", "format": "binary"},
        }
    }
)
@openapi.response(201, {"application/json": {"materials": list}})
@openapi.response(400, PROBLEMS)
@openapi.response(422, PROBLEMS)
@error_responses(404)
@require(Role.ENTERPRISE)
async def upload_materials(request: Request, code: str) -> HTTPResponse:
    code = application_code(code)
    files: Any = request.files or {}
    parts = [(key, file) for key, items in files.items() for file in items]
    if len(parts) > MAX_FILES_PER_UPLOAD:
        raise ValidationFailed(f"at most {MAX_FILES_PER_UPLOAD} files per upload", code="too_many_files")
    settings = settings_of(request)
    uploads = [
        await upload_of(key, file, max_bytes=settings.media_max_bytes, max_pixels=settings.media_max_pixels)
        for key, file in parts
    ]
    env = env_of(request)
    saved = await services.upload_materials(env, current(request), code, uploads=uploads, now=_now())
    return json({"materials": [views.material_view(m) for m in saved]}, status=201)


@approvals.get("/applications/<code:str>/materials/<key:str>")
@openapi.summary("Download a material (staff get the submitted version, the enterprise the latest)")
@openapi.parameter("version", int, "query")
@openapi.response(200, {"application/octet-stream": bytes})
@error_responses(404)
@require(Role.ENTERPRISE, Role.STAFF)
async def download_material(request: Request, code: str, key: str) -> HTTPResponse:
    version = int_arg(request, "version", default=0, low=0, high=10_000) or None
    env = env_of(request)
    material, data = await services.open_material(
        env, current(request), application_code(code), material_key(key), version=version
    )
    content_type = services.CONTENT_TYPES.get(material.kind, "application/octet-stream")
    return raw(data, content_type=content_type, headers={"x-material-version": str(material.version)})


@approvals.post("/applications/<code:str>/submit")
@openapi.summary("Submit: automatic checks, then one review task per department in parallel")
@openapi.response(200, {"application/json": dict})
@error_responses(404, 409)
@openapi.response(422, PROBLEMS)
@require(Role.ENTERPRISE)
async def submit_application(request: Request, code: str) -> HTTPResponse:
    env = env_of(request)
    application = await services.submit(env, current(request), application_code(code), now=_now())
    return json(await views.detail_view(env, application, now=_now()))


@approvals.post("/applications/<code:str>/resubmit")
@openapi.summary("Answer the consolidated correction notice once, with a resubmission")
@openapi.body({"application/json": {"answer": str}})
@openapi.response(200, {"application/json": dict})
@error_responses(404, 409)
@openapi.response(422, PROBLEMS)
@require(Role.ENTERPRISE)
async def resubmit_application(request: Request, code: str) -> HTTPResponse:
    answer = text_field(json_body(request), "answer", max_length=1000, required=False)
    env = env_of(request)
    application = await services.resubmit(
        env, current(request), application_code(code), answer=answer, now=_now()
    )
    return json(await views.detail_view(env, application, now=_now()))


# --- staff ------------------------------------------------------------------------------------------------


@approvals.get("/review/tasks")
@openapi.summary("The department's review queue, soonest deadline first, with SLA states")
@openapi.parameter("include_decided", int, "query", description="1: also tasks already decided")
@openapi.parameter("limit", int, "query", description="1..500")
@openapi.response(200, {"application/json": {"items": list}})
@error_responses(403)
@require(Role.STAFF)
async def review_queue(request: Request) -> HTTPResponse:
    env = env_of(request)
    now = _now()
    rows = await reviews.review_queue(
        env,
        current(request),
        now=now,
        include_decided=bool(int_arg(request, "include_decided", default=0, low=0, high=1)),
        limit=int_arg(request, "limit", default=100, low=1, high=500),
    )
    items = [
        views.task_view(env, task, application, now=now)
        | {"application": views.summary_view(env, application, now=now)}
        for task, application, _state in rows
    ]
    return json({"items": items})


@approvals.post("/review/tasks/<task_id:int>/decision")
@openapi.summary("Approve, reject or request a correction on the department's task")
@openapi.body({"application/json": {"decision": str, "comment": str, "materials": [str]}})
@openapi.response(200, {"application/json": dict})
@error_responses(400, 404, 409)
@require(Role.STAFF)
async def decide(request: Request, task_id: int) -> HTTPResponse:
    if not 0 < task_id <= MAX_TASK_ID:
        raise NotFound("no such review task in your department", code="task_not_found")
    body = json_body(request)
    try:
        decision = TaskDecision(str(body.get("decision", "")))
    except ValueError as error:
        raise ValidationFailed(
            "decision must be approve, reject or request_correction", code="invalid_decision"
        ) from error
    materials = body.get("materials") or []
    if (
        not isinstance(materials, list)
        or len(materials) > 50
        or not all(isinstance(m, str) and MATERIAL_KEY_RE.match(m) for m in materials)
    ):
        raise ValidationFailed("materials must be a list of material keys", code="invalid_parameter")
    env = env_of(request)
    task = await reviews.decide(
        env,
        current(request),
        task_id,
        decision=decision,
        comment=text_field(body, "comment", max_length=1000, required=False),
        materials=materials,
        now=_now(),
    )
    application = await services.load_visible(current(request), (await task.application).code)
    return json(await views.detail_view(env, application, now=_now()))


@approvals.post("/applications/<code:str>/pause")
@openapi.summary("Stop the clock for an expert review, test or hearing (reason recorded)")
@openapi.body({"application/json": {"reason": str}})
@openapi.response(204, None)
@error_responses(400, 404, 409)
@require(Role.STAFF)
async def pause(request: Request, code: str) -> HTTPResponse:
    reason = text_field(json_body(request), "reason", max_length=200)
    env = env_of(request)
    await reviews.pause_clock(env, current(request), application_code(code), reason=reason, now=_now())
    return HTTPResponse(status=204)


@approvals.post("/applications/<code:str>/resume")
@openapi.summary("Restart the clock; deadlines move by the working days it stood still")
@openapi.response(200, {"application/json": {"paused_working_days": int}})
@error_responses(404, 409)
@require(Role.STAFF)
async def resume(request: Request, code: str) -> HTTPResponse:
    env = env_of(request)
    days = await reviews.resume_clock(env, current(request), application_code(code), now=_now())
    return json({"paused_working_days": days})


@approvals.get("/statistics")
@openapi.summary("Working days per stage and per department for decisions in [since, until)")
@openapi.parameter("since", str, "query", description="YYYY-MM-DD (Asia/Shanghai), default 90 days ago")
@openapi.parameter(
    "until", str, "query", description="YYYY-MM-DD (Asia/Shanghai), exclusive, default tomorrow"
)
@openapi.response(200, {"application/json": {"stages": list, "departments": list}})
@error_responses(400)
@require(Role.STAFF)
async def statistics(request: Request) -> HTTPResponse:
    today = _now().astimezone(SHANGHAI).date()
    since = date_arg(request, "since", default=today - dt.timedelta(days=90))
    until = date_arg(request, "until", default=today + dt.timedelta(days=1))
    env = env_of(request)
    return json(await reviews.working_day_statistics(env, since=since, until=until))
