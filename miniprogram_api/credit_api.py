"""Credit doors: the mini-program (own file, appeals), the public lookup, staff (records, imports,
reviews, appeals) and the bidding export. Handlers parse, call one service, and render."""

from __future__ import annotations

import asyncio
import datetime as dt

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, raw
from sanic_ext import openapi

from adapters.uploads import check_size, sniff_type, validate_image
from domain.accounts.rules import Principal, Role
from domain.credit import access, queries, services, tabular
from domain.credit.catalogue import Catalogue
from domain.credit.rules import AppealAction, AppealStatus, RecordAction, RecordStatus, SubjectKind
from domain.errors import ValidationFailed
from domain.tabular import rows_from_csv
from miniprogram_api.auth import current, json_body, require
from miniprogram_api.context import media_of, settings_of
from miniprogram_api.credit_params import as_of_arg, choice, db_id, note_field, parse_subject_kind
from miniprogram_api.openapi_errors import error_responses
from miniprogram_api.params import enum_arg, int_arg, text_arg

credit = Blueprint("credit", url_prefix="/api/v1/credit")

# The deciding departments (domain.credit.access) are the console's rule too: one rule, two doors.
DECIDING_DEPARTMENTS = access.DECIDING_DEPARTMENTS
MAX_IMPORT_BYTES = 5 * 1024 * 1024


async def _catalogue() -> Catalogue:
    return services.rule_catalogue()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _actor(principal: Principal) -> str:
    return f"{principal.role.value}:{principal.subject}"


def _deciding_staff(principal: Principal) -> None:
    access.ensure_may_decide(principal)


# --- mini-program: one's own file --------------------------------------------------------------


@credit.get("/me")
@openapi.summary("My credit file: score, grade, trend, explanation and records with expiry")
@openapi.parameter("as_of", str, "query", description="YYYY-MM-DD (default today, Asia/Shanghai)")
@openapi.response(200, {"application/json": dict})
@error_responses(401, 403, 404)
@require(Role.ENTERPRISE, Role.SITE_MANAGER)
async def my_credit(request: Request) -> HTTPResponse:
    kind, subject_id = await queries.own_subject(current(request))
    standing = await queries.subject_standing(
        kind,
        subject_id,
        as_of=as_of_arg(request),
        catalogue=await _catalogue(),
        missing_ok=kind is SubjectKind.ENTERPRISE,
    )
    return json(standing)


async def _attachments(request: Request) -> list[str]:
    """Photos (JPEG/PNG) and PDFs, validated by content, stored once in the media store."""
    settings = settings_of(request)
    uploads = (request.files.getlist("attachments") or []) if request.files else []
    if len(uploads) > services.MAX_ATTACHMENTS:
        raise ValidationFailed(f"at most {services.MAX_ATTACHMENTS} attachments", code="too_many_attachments")
    refs = []
    for upload in uploads:
        data = upload.body
        check_size(data, max_bytes=settings.media_max_bytes)
        if sniff_type(data) == "pdf":
            content_type = "application/pdf"
        else:
            info = await asyncio.to_thread(
                validate_image, data, max_bytes=settings.media_max_bytes, max_pixels=settings.media_max_pixels
            )
            content_type = info.content_type
        refs.append(await media_of(request).put(data, content_type=content_type))
    return refs


@credit.post("/records/<record_id:int>/appeals")
@openapi.summary("Appeal one of my enterprise's records (multipart: reason + attachments, or JSON {reason})")
@openapi.body(
    {"multipart/form-data": {"reason": str, "attachments": bytes}, "application/json": {"reason": str}}
)
@openapi.response(201, {"application/json": {"appeal_id": int, "status": str, "attachments": list}})
@error_responses(400, 401, 403, 404, 409)
@require(Role.ENTERPRISE)
async def file_appeal(request: Request, record_id: int) -> HTTPResponse:
    principal = current(request)
    # Check the record before storing any upload, so nobody fills the media store through a bad id.
    await services.ensure_appealable(db_id(record_id, "record"), enterprise_uscc=principal.enterprise_uscc)
    if request.content_type.startswith("multipart/form-data"):
        reason = (request.form.get("reason") if request.form else None) or ""
        attachments = await _attachments(request)
    else:
        reason = json_body(request).get("reason", "")
        attachments = []
    if not isinstance(reason, str):
        raise ValidationFailed("reason must be a string", code="invalid_appeal_reason")
    appeal = await services.file_appeal(
        db_id(record_id, "record"),
        enterprise_uscc=principal.enterprise_uscc,
        actor=_actor(principal),
        reason=reason,
        attachments=attachments,
        now=_now(),
    )
    return json(
        {"appeal_id": appeal.id, "status": appeal.status.value, "attachments": attachments}, status=201
    )


# --- public -----------------------------------------------------------------------------------------


@credit.get("/public")
@openapi.summary("Public credit lookup by enterprise name or unified social credit code")
@openapi.parameter("q", str, "query", required=True, description="part of the name, or the 18-character code")
@openapi.parameter("as_of", str, "query", description="YYYY-MM-DD (default today)")
@openapi.response(200, {"application/json": {"items": list}})
@error_responses(400)
async def public_lookup(request: Request) -> HTTPResponse:
    query = text_arg(request, "q", max_length=64)
    if len(query) < 2:
        raise ValidationFailed("q needs at least 2 characters", code="invalid_parameter")
    items = await queries.public_lookup(query, as_of=as_of_arg(request), catalogue=await _catalogue())
    return json({"items": items})


# --- staff --------------------------------------------------------------------------------------------


@credit.post("/records")
@openapi.summary("Add a credit record (effective at once: the adding staff is the reviewer)")
@openapi.body(
    {
        "application/json": {
            "subject_kind": str,
            "subject_id": str,
            "subject_name": str,
            "record_type": str,
            "effective_on": str,
            "source_ref": str,
            "project_code": str,
            "penalty_months": int,
            "summary": str,
        }
    }
)
@openapi.response(201, {"application/json": dict})
@error_responses(400, 403, 409)
@require(Role.STAFF)
async def add_record(request: Request) -> HTTPResponse:
    principal = current(request)
    _deciding_staff(principal)
    body = json_body(request)
    fields = {
        key: "" if value is None else str(value)
        for key, value in body.items()
        if key in tabular.REQUIRED or key in ("subject_name", "project_code", "penalty_months", "summary")
    }
    catalogue = await _catalogue()
    draft = tabular.draft_from_fields(fields, catalogue)
    if not isinstance(draft, tabular.RecordDraft):
        raise ValidationFailed("; ".join(draft), code="invalid_record", problems=draft)
    record = await services.add_record(
        draft, catalogue=catalogue, actor=_actor(principal), now=_now(), needs_review=False
    )
    return json(
        {
            "record_id": record.id,
            "status": record.status.value,
            "points": record.points,
            "expires_on": record.expires_on.isoformat(),
        },
        status=201,
    )


@credit.post("/records/import")
@openapi.summary("Bulk import of an inspection campaign (CSV or XLSX in field 'file'); rows become pending")
@openapi.body({"multipart/form-data": {"file": bytes}})
@openapi.response(200, {"application/json": {"created": list, "rejected": list}})
@error_responses(400, 403)
@require(Role.STAFF)
async def import_records(request: Request) -> HTTPResponse:
    principal = current(request)
    _deciding_staff(principal)
    upload = request.files.get("file") if request.files else None
    if upload is None:
        raise ValidationFailed("upload the sheet as multipart field 'file'", code="missing_file")
    check_size(upload.body, max_bytes=MAX_IMPORT_BYTES)
    kind = sniff_type(upload.body)
    if kind == "zip":
        rows = await asyncio.to_thread(tabular.rows_from_xlsx, upload.body)
    elif kind is None:
        rows = rows_from_csv(upload.body)
    else:
        raise ValidationFailed("only CSV and XLSX sheets are accepted", code="unsupported_type")
    created, rejected = await services.import_records(
        rows, catalogue=await _catalogue(), actor=_actor(principal), now=_now()
    )
    return json(
        {"created": created, "rejected": [{"row": r.row, "problems": list(r.problems)} for r in rejected]}
    )


@credit.get("/records")
@openapi.summary("Staff: credit records, e.g. the pending review queue")
@openapi.parameter("status", str, "query", description="pending|effective|rejected|revoked")
@openapi.parameter("page", int, "query")
@openapi.parameter("page_size", int, "query")
@openapi.response(200, {"application/json": {"items": list, "total": int, "page": int, "page_size": int}})
@error_responses(400, 403)
@require(Role.STAFF)
async def list_records(request: Request) -> HTTPResponse:
    page = await queries.list_records(
        status=enum_arg(request, "status", RecordStatus),
        page=int_arg(request, "page", default=1, low=1, high=100_000),
        page_size=int_arg(request, "page_size", default=20, low=1, high=queries.MAX_PAGE_SIZE),
    )
    return json(page)


@credit.get("/records/<record_id:int>/audit")
@openapi.summary("Staff: the audit trail of one record")
@openapi.response(200, {"application/json": {"items": list}})
@error_responses(403)
@require(Role.STAFF)
async def record_audit(request: Request, record_id: int) -> HTTPResponse:
    return json({"items": await queries.audit_trail(db_id(record_id, "record"))})


@credit.post("/records/<record_id:int>/review")
@openapi.summary("Staff: approve or reject a pending record")
@openapi.body({"application/json": {"decision": str, "note": str}})
@openapi.response(200, {"application/json": {"record_id": int, "status": str}})
@error_responses(400, 403, 404, 409)
@require(Role.STAFF)
async def review_record(request: Request, record_id: int) -> HTTPResponse:
    principal = current(request)
    _deciding_staff(principal)
    body = json_body(request)
    action = choice(body.get("decision"), RecordAction, "decision")
    record = await services.review_record(
        db_id(record_id, "record"), action=action, actor=_actor(principal), note=note_field(body), now=_now()
    )
    return json({"record_id": record.id, "status": record.status.value})


@credit.get("/appeals")
@openapi.summary("Staff: appeals, e.g. the open ones")
@openapi.parameter("status", str, "query", description="filed|upheld|dismissed")
@openapi.parameter("page", int, "query")
@openapi.parameter("page_size", int, "query")
@openapi.response(200, {"application/json": {"items": list, "total": int}})
@error_responses(400, 403)
@require(Role.STAFF)
async def list_appeals(request: Request) -> HTTPResponse:
    page = await queries.list_appeals(
        status=enum_arg(request, "status", AppealStatus),
        page=int_arg(request, "page", default=1, low=1, high=100_000),
        page_size=int_arg(request, "page_size", default=20, low=1, high=queries.MAX_PAGE_SIZE),
    )
    return json(page)


@credit.post("/appeals/<appeal_id:int>/decision")
@openapi.summary("Staff: uphold (the record is revoked from today) or dismiss an appeal")
@openapi.body({"application/json": {"decision": str, "note": str}})
@openapi.response(200, {"application/json": {"appeal_id": int, "status": str}})
@error_responses(400, 403, 404, 409)
@require(Role.STAFF)
async def decide_appeal(request: Request, appeal_id: int) -> HTTPResponse:
    principal = current(request)
    _deciding_staff(principal)
    body = json_body(request)
    action = choice(body.get("decision"), AppealAction, "decision")
    appeal = await services.decide_appeal(
        db_id(appeal_id, "appeal"), action=action, actor=_actor(principal), note=note_field(body), now=_now()
    )
    return json({"appeal_id": appeal.id, "status": appeal.status.value})


@credit.get("/subjects/<kind:str>/<subject_id:str>")
@openapi.summary("Staff: any credit file as of a date, with explanation, trend and records")
@openapi.parameter("as_of", str, "query")
@openapi.response(200, {"application/json": dict})
@error_responses(400, 403, 404)
@require(Role.STAFF)
async def subject_file(request: Request, kind: str, subject_id: str) -> HTTPResponse:
    standing = await queries.subject_standing(
        parse_subject_kind(kind), subject_id[:40], as_of=as_of_arg(request), catalogue=await _catalogue()
    )
    return json(standing)


@credit.put("/subjects/<kind:str>/<subject_id:str>/holder")
@openapi.summary("Staff: bind a person's credit file to the site-manager account that may read it")
@openapi.body({"application/json": {"account_id": str, "name": str}})
@openapi.response(200, {"application/json": {"bound": bool}})
@error_responses(400, 403, 404)
@require(Role.STAFF)
async def bind_holder(request: Request, kind: str, subject_id: str) -> HTTPResponse:
    principal = current(request)
    _deciding_staff(principal)
    body = json_body(request)
    account_id, name = body.get("account_id"), body.get("name", "")
    if not isinstance(name, str) or len(name) > 64:
        raise ValidationFailed("name must be a string of at most 64 characters", code="invalid_name")
    if not isinstance(account_id, str | int) or isinstance(account_id, bool) or not str(account_id).isdigit():
        raise ValidationFailed("account_id must be an account id", code="invalid_account_id")
    subject_kind = parse_subject_kind(kind)
    problems = tabular.subject_problems(subject_kind, kind, subject_id)
    if problems:
        raise ValidationFailed("; ".join(problems), code="invalid_subject", problems=problems)
    await services.bind_holder(
        subject_kind, subject_id, account_id=str(account_id), actor=_actor(principal), now=_now(), name=name
    )
    return json({"bound": True})


@credit.get("/export")
@openapi.summary("Staff: grades of all enterprises as of a date, for bidding (CSV or XLSX)")
@openapi.parameter("as_of", str, "query")
@openapi.parameter("format", str, "query", description="csv|xlsx")
@openapi.response(
    200, {"text/csv": str, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": bytes}
)
@error_responses(400, 403)
@require(Role.STAFF)
async def export_grades(request: Request) -> HTTPResponse:
    as_of = as_of_arg(request)
    file_format = text_arg(request, "format", max_length=8) or "csv"
    if file_format not in ("csv", "xlsx"):
        raise ValidationFailed("format must be csv or xlsx", code="invalid_parameter")
    rows = await queries.enterprise_grades(as_of=as_of, catalogue=await _catalogue())
    name = f"credit-grades-{as_of.isoformat()}.{file_format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if file_format == "xlsx":
        data = await asyncio.to_thread(tabular.export_xlsx, rows)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        data = tabular.export_csv(rows)
        content_type = "text/csv; charset=utf-8"
    return raw(data, content_type=content_type, headers=headers)
