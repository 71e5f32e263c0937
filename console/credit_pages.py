"""Credit pages (信用评价): enterprises with score and grade, one enterprise's file with every record and
why the score moved, the appeals queue and its decisions. Same services and the same deciding rule
(``domain.credit.access``) as ``/api/v1/credit``: every staff member reads, the deciding departments
add, review and decide."""

from __future__ import annotations

import datetime as dt
import math
from urllib.parse import quote, urlencode

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect
from sanic_ext import openapi

from console.forms import arg_enum, arg_int, arg_text, form_text, plain_text
from console.guard import current, page
from console.templating import render
from domain.accounts.rules import Principal, Role
from domain.credit import access, queries, services, tabular
from domain.credit.rules import AppealAction, AppealStatus, RecordAction, SubjectKind
from domain.errors import NotFound, ValidationFailed

console_credit = Blueprint("console_credit", url_prefix="/console/credit")
STAFF = (Role.STAFF,)
PAGE_SIZE = 20
MAX_DB_ID = 2**31 - 1
CHANGE_DAYS = 365
APPEAL_DECISIONS = {
    AppealAction.UPHOLD: "异议成立（撤销该记录）",
    AppealAction.DISMISS: "异议不成立（维持记录）",
}
REVIEW_DECISIONS = {RecordAction.APPROVE: "审核通过", RecordAction.REJECT: "审核不通过"}
DONE_NOTICES = {
    "added": "已新增信用记录，即日生效",
    "approve": "信用记录已审核通过",
    "reject": "信用记录已审核不通过",
    "uphold": "已认定异议成立，该记录已撤销",
    "dismiss": "已认定异议不成立，记录维持",
}
RECORD_FORM_FIELDS = {
    "record_type": 40,
    "effective_on": 10,
    "source_ref": 120,
    "project_code": 16,
    "penalty_months": 3,
    "summary": 2000,
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _actor(principal: Principal) -> str:
    return f"{principal.role.value}:{principal.subject}"


def _query(request: Request, name: str, *, max_length: int) -> str:
    return arg_text(request, name, max_length=max_length)


def _field(request: Request, name: str, *, max_length: int, required: bool = False) -> str:
    return form_text(request, name, max_length=max_length, required=required)


def _db_id(value: int, what: str) -> int:
    """Ids beyond the database's integer range are simply unknown (never a driver error)."""
    if not 1 <= value <= MAX_DB_ID:
        raise NotFound(f"no {what} {value}", code=f"credit_{what}_not_found")
    return value


def _done(request: Request) -> str:
    return DONE_NOTICES.get(arg_text(request, "done", max_length=16), "")


def _pager_query(request: Request) -> str:
    return urlencode([(k, v) for k, v in request.query_args if k not in ("page", "done")])


@console_credit.get("/")
@openapi.exclude()
@page(*STAFF)
async def enterprises_page(request: Request) -> HTTPResponse:
    catalogue = services.rule_catalogue()
    term = _query(request, "q", max_length=64)
    grade = _query(request, "grade", max_length=2).upper()
    result = await queries.enterprise_page(
        term=term,
        grade=grade,
        page=arg_int(request, "page", default=1, low=1, high=10_000),
        page_size=PAGE_SIZE,
        as_of=services.local_day(_now()),
        catalogue=catalogue,
    )
    return render(
        request,
        "credit.html",
        result=result,
        q=term,
        grade=grade,
        grades=[(band.grade, band.label) for band in (*catalogue.grades, catalogue.blacklist_grade)],
        pages=max(1, math.ceil(result["total"] / PAGE_SIZE)),
        pager_query=_pager_query(request),
    )


@console_credit.get("/appeals")
@openapi.exclude()
@page(*STAFF)
async def appeals_page(request: Request) -> HTTPResponse:
    status = arg_enum(request, "status", AppealStatus)
    result = await queries.appeal_queue(
        status=status,
        page=arg_int(request, "page", default=1, low=1, high=10_000),
        page_size=PAGE_SIZE,
        catalogue=services.rule_catalogue(),
    )
    return render(
        request,
        "credit_appeals.html",
        result=result,
        selected_status=status.value if status else "",
        pages=max(1, math.ceil(result["total"] / PAGE_SIZE)),
        pager_query=_pager_query(request),
        may_decide=access.may_decide(current(request)),
        decisions=APPEAL_DECISIONS,
        done=_done(request),
    )


@console_credit.post("/appeals/<appeal_id:int>/decision")
@openapi.exclude()
@page(*STAFF)
async def decide_appeal(request: Request, appeal_id: int) -> HTTPResponse:
    """Uphold (the record is revoked from today) or dismiss, as ``.../appeals/{id}/decision``."""
    principal = current(request)
    access.ensure_may_decide(principal)
    appeal_id = _db_id(appeal_id, "appeal")
    try:
        action = AppealAction(form_text(request, "decision", max_length=16, required=True))
    except ValueError as error:
        raise ValidationFailed("请选择异议处理结果", code="invalid_decision") from error
    await services.decide_appeal(
        appeal_id,
        action=action,
        actor=_actor(principal),
        note=_field(request, "note", max_length=2000, required=True),
        now=_now(),
    )
    return redirect(f"/console/credit/appeals?done={action.value}", status=303)


@console_credit.get("/<uscc:str>")
@openapi.exclude()
@page(*STAFF)
async def enterprise_file(request: Request, uscc: str) -> HTTPResponse:
    catalogue, today = services.rule_catalogue(), services.local_day(_now())
    subject_id = plain_text(uscc.strip().upper()[:18], "uscc")
    standing = await queries.subject_standing(
        SubjectKind.ENTERPRISE, subject_id, as_of=today, catalogue=catalogue
    )
    changes = await queries.recent_changes(
        SubjectKind.ENTERPRISE, subject_id, today=today, days=CHANGE_DAYS, catalogue=catalogue
    )
    return render(
        request,
        "credit_enterprise.html",
        file=standing,
        changes=changes,
        change_days=CHANGE_DAYS,
        may_decide=access.may_decide(current(request)),
        record_types=catalogue.record_types,
        reviews=REVIEW_DECISIONS,
        today=today.isoformat(),
        done=_done(request),
    )


def _back(subject_id: str, done: str) -> HTTPResponse:
    return redirect(f"/console/credit/{quote(subject_id, safe='')}?done={done}", status=303)


@console_credit.post("/<uscc:str>/records")
@openapi.exclude()
@page(*STAFF)
async def add_record(request: Request, uscc: str) -> HTTPResponse:
    """A record effective at once (the adding staff is its reviewer), as ``POST /api/v1/credit/records``."""
    principal = current(request)
    access.ensure_may_decide(principal)
    subject_id = plain_text(uscc.strip().upper()[:18], "uscc")
    fields = {name: _field(request, name, max_length=size) for name, size in RECORD_FORM_FIELDS.items()}
    fields |= {
        "subject_kind": SubjectKind.ENTERPRISE.value,
        "subject_id": subject_id,
        "subject_name": await queries.subject_name(SubjectKind.ENTERPRISE, subject_id),
    }
    catalogue = services.rule_catalogue()
    draft = tabular.draft_from_fields(fields, catalogue)
    if not isinstance(draft, tabular.RecordDraft):
        raise ValidationFailed("; ".join(draft), code="invalid_record")
    await services.add_record(
        draft, catalogue=catalogue, actor=_actor(principal), now=_now(), needs_review=False
    )
    return _back(subject_id, "added")


@console_credit.post("/records/<record_id:int>/review")
@openapi.exclude()
@page(*STAFF)
async def review_record(request: Request, record_id: int) -> HTTPResponse:
    """Approve or reject a pending record (imports and events), as ``.../records/{id}/review``."""
    principal = current(request)
    access.ensure_may_decide(principal)
    record_id = _db_id(record_id, "record")
    try:
        action = RecordAction(form_text(request, "decision", max_length=16, required=True))
    except ValueError as error:
        raise ValidationFailed("请选择审核结果", code="invalid_decision") from error
    record = await services.review_record(
        record_id,
        action=action,
        actor=_actor(principal),
        note=_field(request, "note", max_length=2000),
        now=_now(),
    )
    return _back(record.subject_id, action.value)
