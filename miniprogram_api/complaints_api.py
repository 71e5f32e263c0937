"""Complaint doors of the REST API: citizens file and follow their own tickets; staff work their
department's queue; contractors see what to fix (never who complained).

Handlers parse, call one service, and render. Photos are validated by content and decoded under a
pixel limit *before* anything is stored, so a bad upload leaves the ticket untouched.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from adapters.uploads import validate_image
from domain.accounts.rules import Principal, Role
from domain.complaints import intake, queries, services
from domain.complaints.rules import Action, State, parse_rating
from domain.complaints.sla import SlaStatus
from domain.errors import NotFound, ValidationFailed
from miniprogram_api.auth import current, json_body, require
from miniprogram_api.complaints_params import body_text, location, parse_time, request_fields
from miniprogram_api.context import media_of, settings_of
from miniprogram_api.openapi_errors import error_responses
from miniprogram_api.params import enum_arg, int_arg, text_arg

complaints = Blueprint("complaints", url_prefix="/api/v1")

TICKET = {"application/json": dict}
ACTION_BODY = {"application/json": {"note": str}}
SIMPLE_STAFF_ACTIONS = {
    "accept": Action.ACCEPT,
    "start": Action.START,
    "note": Action.NOTE,
    "return": Action.RETURN,
    "close": Action.CLOSE,
    "refuse": Action.REFUSE,
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- photos ---------------------------------------------------------------------------------------


async def store_photos(request: Request, *, limit: int) -> list[str]:
    """Validate every file first (in a thread: decoding is CPU work), then store them all."""
    files = request.files.getlist("photos") if request.files else []
    files = files or []
    if len(files) > limit:
        raise ValidationFailed(f"at most {limit} photos", code="too_many_photos")
    settings = settings_of(request)
    checked = []
    for upload in files:
        info = await asyncio.to_thread(
            validate_image,
            upload.body,
            max_bytes=settings.media_max_bytes,
            max_pixels=settings.media_max_pixels,
        )
        checked.append((upload.body, info.content_type))
    media = media_of(request)
    return [await media.put(data, content_type=content_type) for data, content_type in checked]


# --- citizens -------------------------------------------------------------------------------------


@complaints.get("/complaints/types")
@openapi.summary("Nuisance types a citizen can report, with their SLA category")
@openapi.response(200, {"application/json": {"items": list}})
async def nuisance_types(request: Request) -> HTTPResponse:
    policy = services.default_policy()
    items = [
        {"code": t.code, "label": t.label, "description": t.description, "category": t.category}
        for t in policy.nuisance_types.values()
    ]
    return json({"items": items})


@complaints.post("/complaints")
@openapi.summary("File a complaint (JSON, or multipart with up to 9 JPEG/PNG photos of at most 10 MB)")
@openapi.body(
    {
        "application/json": {
            "nuisance_type": str,
            "description": str,
            "address": str,
            "lat": float,
            "lng": float,
            "coord_type": str,
            "occurred_at": str,
            "phone": str,
            "name": str,
        }
    }
)
@openapi.response(201, TICKET)
@error_responses(400, 401, 403)
@require(Role.CITIZEN)
async def create_complaint(request: Request) -> HTTPResponse:
    principal = current(request)
    body = request_fields(request)
    lat, lng = location(body)
    new = intake.NewComplaint(
        nuisance_type=body_text(body, "nuisance_type", max_length=32, required=True),
        description=body_text(body, "description", max_length=intake.MAX_DESCRIPTION),
        channel="miniprogram",
        reporter_openid=principal.openid,
        reporter_phone=body_text(body, "phone", max_length=20),
        reporter_name=body_text(body, "name", max_length=32),
        address=body_text(body, "address", max_length=200),
        lat=lat,
        lng=lng,
        occurred_at=parse_time(body_text(body, "occurred_at", max_length=40)),
    )
    now = _now()
    new.check(policy=services.default_policy(), now=now)  # refuse bad fields before storing any photo
    photos = await store_photos(request, limit=intake.MAX_PHOTOS)
    complaint = await intake.submit(dataclasses.replace(new, photos=tuple(photos)), now=now)
    return json(await queries.citizen_view(complaint, now=now), status=201)


@complaints.get("/complaints/mine")
@openapi.summary("My complaints, newest first, each with its timeline")
@openapi.parameter("open_only", bool, "query")
@openapi.response(200, {"application/json": {"items": list}})
@error_responses(401)
@require(Role.CITIZEN)
async def my_complaints(request: Request) -> HTTPResponse:
    principal = current(request)
    open_only = text_arg(request, "open_only", max_length=5).lower() in ("1", "true", "yes")
    return json({"items": await queries.list_mine(principal.openid, now=_now(), open_only=open_only)})


@complaints.get("/complaints/<ticket_no:str>")
@openapi.summary("One ticket: the reporter's view, the staff view, or the contractor's view")
@openapi.response(200, TICKET)
@error_responses(400, 404)
@require(Role.CITIZEN, Role.STAFF, Role.ENTERPRISE, Role.SITE_MANAGER)
async def get_complaint(request: Request, ticket_no: str) -> HTTPResponse:
    principal = current(request)
    now = _now()
    if principal.is_staff():
        return json(await queries.get_for_staff(ticket_no, principal=principal, now=now))
    if principal.role in (Role.ENTERPRISE, Role.SITE_MANAGER):
        return json(await queries.get_for_contractor(ticket_no, principal=principal, now=now))
    return json(await queries.get_for_citizen(ticket_no, openid=principal.openid, now=now))


@complaints.post("/complaints/<ticket_no:str>/rate")
@openapi.summary(
    "Rate the answer: satisfied, basically_satisfied, dissatisfied (or 1/2/3); dissatisfied reopens"
)
@openapi.body({"application/json": {"rating": str}})
@openapi.response(200, TICKET)
@error_responses(400, 404, 409)
@require(Role.CITIZEN)
async def rate_complaint(request: Request, ticket_no: str) -> HTTPResponse:
    principal = current(request)
    rating = parse_rating(str(json_body(request).get("rating", ""))[:20])
    if rating is None:
        raise ValidationFailed(
            "rating is satisfied, basically_satisfied or dissatisfied", code="invalid_rating"
        )
    now = _now()
    complaint = await services.rate(ticket_no, rating, openid=principal.openid, now=now)
    return json(await queries.citizen_view(complaint, now=now))


@complaints.post("/complaints/<ticket_no:str>/reopen")
@openapi.summary("Ask for the ticket to be handled again")
@openapi.body(ACTION_BODY)
@openapi.response(200, TICKET)
@error_responses(404, 409)
@require(Role.CITIZEN)
async def reopen_complaint(request: Request, ticket_no: str) -> HTTPResponse:
    principal = current(request)
    note = body_text(json_body(request) if request.body else {}, "note", max_length=500)
    now = _now()
    complaint = await services.reopen(ticket_no, openid=principal.openid, now=now, note=note)
    return json(await queries.citizen_view(complaint, now=now))


@complaints.post("/complaints/<ticket_no:str>/photos")
@openapi.summary("Add photos (multipart field 'photos'); all are checked before any is attached")
@openapi.response(200, TICKET)
@error_responses(400, 404)
@require(Role.CITIZEN, Role.STAFF)
async def add_photos(request: Request, ticket_no: str) -> HTTPResponse:
    principal = current(request)
    now = _now()
    complaint = await services.load(ticket_no)
    if principal.is_staff():
        services.check_staff_scope(complaint, principal)
    else:
        services.check_owner(complaint, principal.openid)
    refs = await store_photos(request, limit=intake.MAX_PHOTOS - len(complaint.photos))
    if not refs:
        raise ValidationFailed("attach at least one photo in the 'photos' field", code="no_photos")
    complaint = await services.add_photos(ticket_no, refs, principal=principal, now=now)
    return json(await _view_for(principal, complaint, now=now))


async def _view_for(principal: Principal, complaint: Any, *, now: dt.datetime) -> dict[str, Any]:
    if principal.is_staff():
        return await queries.staff_view(complaint, now=now)
    return await queries.citizen_view(complaint, now=now)


# --- contractors ----------------------------------------------------------------------------------


@complaints.get("/enterprise/complaints")
@openapi.summary("Complaints about my sites: the contractor's, or a site manager's bound sites (no reporter)")
@openapi.response(200, {"application/json": {"items": list}})
@require(Role.ENTERPRISE, Role.SITE_MANAGER)
async def enterprise_complaints(request: Request) -> HTTPResponse:
    return json({"items": await queries.list_for_contractor(current(request), now=_now())})


# --- staff ----------------------------------------------------------------------------------------


@complaints.get("/staff/complaints")
@openapi.summary("My department's queue, earliest deadline first")
@openapi.parameter("state", str, "query")
@openapi.parameter("sla_status", str, "query", description="on_time|due_soon|overdue|met|missed")
@openapi.parameter("town", str, "query")
@openapi.parameter("nuisance_type", str, "query")
@openapi.parameter("site_code", str, "query")
@openapi.parameter("page", int, "query")
@openapi.parameter("page_size", int, "query")
@openapi.response(200, {"application/json": {"items": list, "total": int, "page": int, "page_size": int}})
@error_responses(400)
@require(Role.STAFF)
async def staff_queue(request: Request) -> HTTPResponse:
    filters = queries.QueueFilter(
        state=enum_arg(request, "state", State),
        sla_status=enum_arg(request, "sla_status", SlaStatus),
        town=text_arg(request, "town", max_length=16),
        nuisance_type=text_arg(request, "nuisance_type", max_length=32),
        site_code=text_arg(request, "site_code", max_length=24),
        page=int_arg(request, "page", default=1, low=1, high=10_000),
        page_size=int_arg(request, "page_size", default=20, low=1, high=queries.MAX_PAGE_SIZE),
    )
    return json(await queries.queue(current(request), filters, now=_now()))


async def _staff_result(principal: Principal, complaint: Any) -> HTTPResponse:
    return json(await queries.staff_view(complaint, now=_now()))


@complaints.post("/staff/complaints/<ticket_no:str>/assign")
@openapi.summary("Dispatch or reassign (改派) to a department and/or a handler")
@openapi.body({"application/json": {"department": str, "assignee_id": str, "note": str}})
@openapi.response(200, TICKET)
@error_responses(400, 404, 409)
@require(Role.STAFF)
async def assign(request: Request, ticket_no: str) -> HTTPResponse:
    principal = current(request)
    body = json_body(request)
    complaint = await services.assign(
        ticket_no,
        principal=principal,
        now=_now(),
        assignee_id=body_text(body, "assignee_id", max_length=32),
        department=body_text(body, "department", max_length=32),
        note=body_text(body, "note", max_length=500),
    )
    return await _staff_result(principal, complaint)


@complaints.post("/staff/complaints/<ticket_no:str>/reply")
@openapi.summary("Answer the citizen (and every merged duplicate) through the outbox")
@openapi.body({"application/json": {"text": str}})
@openapi.response(200, TICKET)
@error_responses(400, 404, 409)
@require(Role.STAFF)
async def reply(request: Request, ticket_no: str) -> HTTPResponse:
    principal = current(request)
    text = body_text(json_body(request), "text", max_length=1000, required=True)
    complaint = await services.reply(ticket_no, principal=principal, text=text, now=_now())
    return await _staff_result(principal, complaint)


@complaints.post("/staff/complaints/<ticket_no:str>/merge")
@openapi.summary("Merge this ticket into another (并单)")
@openapi.body({"application/json": {"into": str, "note": str}})
@openapi.response(200, TICKET)
@error_responses(400, 404, 409)
@require(Role.STAFF)
async def merge(request: Request, ticket_no: str) -> HTTPResponse:
    principal = current(request)
    body = json_body(request)
    complaint = await services.merge(
        ticket_no,
        into=body_text(body, "into", max_length=20, required=True),
        principal=principal,
        now=_now(),
        note=body_text(body, "note", max_length=500),
    )
    return await _staff_result(principal, complaint)


@complaints.post("/staff/complaints/<ticket_no:str>/uphold")
@openapi.summary("Confirm a violation at the site (emits ComplaintUpheld for credit)")
@openapi.body(ACTION_BODY)
@openapi.response(200, TICKET)
@error_responses(400, 404, 409)
@require(Role.STAFF)
async def uphold(request: Request, ticket_no: str) -> HTTPResponse:
    principal = current(request)
    note = body_text(json_body(request) if request.body else {}, "note", max_length=500)
    complaint = await services.uphold(ticket_no, principal=principal, now=_now(), note=note)
    return await _staff_result(principal, complaint)


@complaints.post("/staff/complaints/<ticket_no:str>/<action:str>")
@openapi.summary("accept (签收), start, note, return (退单, reason), close, refuse (不予受理, reason)")
@openapi.body(ACTION_BODY)
@openapi.response(200, TICKET)
@error_responses(400, 404, 409)
@require(Role.STAFF)
async def simple_action(request: Request, ticket_no: str, action: str) -> HTTPResponse:
    principal = current(request)
    chosen = SIMPLE_STAFF_ACTIONS.get(action)
    if chosen is None:
        raise NotFound(f"no action {action[:20]!r}", code="unknown_action")
    note = body_text(json_body(request) if request.body else {}, "note", max_length=1000)
    complaint = await services.staff_act(ticket_no, chosen, principal=principal, now=_now(), note=note)
    return await _staff_result(principal, complaint)
