"""Complaint pages: the department's queue (SLA status, filters, polled by htmx), one ticket with its
timeline and photos, and the staff actions. Same services and scoping as ``/api/v1/staff/complaints``."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from urllib.parse import urlencode

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw, redirect
from sanic_ext import openapi

from console.evidence_pages import panel as evidence_panel
from console.forms import arg_enum, arg_int, arg_text, form_text
from console.guard import current, page
from console.labels import COMPLAINT_SIMPLE_ACTIONS
from console.templating import render
from domain.accounts.rules import Role
from domain.complaints import queries, services
from domain.complaints.rules import Action, State
from domain.complaints.sla import SlaStatus
from domain.errors import NotFound

console_complaints = Blueprint("console_complaints", url_prefix="/console/complaints")
STAFF = (Role.STAFF,)
SIMPLE_ACTIONS = {name: Action(name) for name in COMPLAINT_SIMPLE_ACTIONS}
PAGE_SIZE = 20


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _filters(request: Request) -> queries.QueueFilter:
    return queries.QueueFilter(
        state=arg_enum(request, "state", State),
        sla_status=arg_enum(request, "sla_status", SlaStatus),
        town=arg_text(request, "town", max_length=16),
        nuisance_type=arg_text(request, "nuisance_type", max_length=32),
        site_code=arg_text(request, "site_code", max_length=24),
        page=arg_int(request, "page", default=1, low=1, high=10_000),
        page_size=PAGE_SIZE,
    )


async def _queue_context(request: Request) -> dict[str, Any]:
    filters = _filters(request)
    result = await queries.queue(current(request), filters, now=_now())
    return {
        "result": result,
        "filters": filters,
        "pages": max(1, math.ceil(result["total"] / PAGE_SIZE)),
        "query": request.query_string,
        "pager_query": urlencode([(k, v) for k, v in request.query_args if k != "page"]),
        "nuisance_types": {code: t.label for code, t in services.default_policy().nuisance_types.items()},
        "refreshed_at": _now(),
    }


@console_complaints.get("/")
@openapi.exclude()
@page(*STAFF)
async def queue_page(request: Request) -> HTTPResponse:
    return render(request, "complaints.html", **await _queue_context(request))


@console_complaints.get("/rows")
@openapi.exclude()
@page(*STAFF)
async def queue_rows(request: Request) -> HTTPResponse:
    """The table body alone: htmx polls it so new tickets appear without a reload."""
    return render(request, "_complaint_rows.html", **await _queue_context(request))


@console_complaints.get("/<ticket_no:str>")
@openapi.exclude()
@page(*STAFF)
async def ticket_page(request: Request, ticket_no: str) -> HTTPResponse:
    ticket = await queries.get_for_staff(ticket_no[:20], principal=current(request), now=_now())
    return render(
        request,
        "complaint.html",
        ticket=ticket,
        simple_actions={k: v for k, v in COMPLAINT_SIMPLE_ACTIONS.items() if k in ticket["allowed_actions"]},
        evidence=await evidence_panel("complaint", str(ticket["ticket_no"])),
        done=arg_text(request, "done", max_length=16),
    )


@console_complaints.get("/<ticket_no:str>/photos/<index:int>")
@openapi.exclude()
@page(*STAFF)
async def ticket_photo(request: Request, ticket_no: str, index: int) -> HTTPResponse:
    """A photo of a ticket the staff member may see (the same scope check as the ticket page)."""
    ticket = await queries.get_for_staff(ticket_no[:20], principal=current(request), now=_now())
    photos = ticket["photos"]
    if not 0 <= index < len(photos):
        raise NotFound("no such photo", code="photo_not_found")
    media = request.app.ctx.media
    data = await media.get(photos[index])
    kind = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return raw(data, content_type=kind, headers={"Cache-Control": "private, max-age=300"})


def _back(ticket_no: str, done: str) -> HTTPResponse:
    return redirect(f"/console/complaints/{ticket_no}?done={done}", status=303)


@console_complaints.post("/<ticket_no:str>/reply")
@openapi.exclude()
@page(*STAFF)
async def reply(request: Request, ticket_no: str) -> HTTPResponse:
    text = form_text(request, "text", max_length=1000, required=True)
    await services.reply(ticket_no[:20], principal=current(request), text=text, now=_now())
    return _back(ticket_no, "reply")


@console_complaints.post("/<ticket_no:str>/merge")
@openapi.exclude()
@page(*STAFF)
async def merge(request: Request, ticket_no: str) -> HTTPResponse:
    await services.merge(
        ticket_no[:20],
        into=form_text(request, "into", max_length=20, required=True),
        principal=current(request),
        now=_now(),
        note=form_text(request, "note", max_length=500),
    )
    return _back(ticket_no, "merge")


@console_complaints.post("/<ticket_no:str>/assign")
@openapi.exclude()
@page(*STAFF)
async def assign(request: Request, ticket_no: str) -> HTTPResponse:
    await services.assign(
        ticket_no[:20],
        principal=current(request),
        now=_now(),
        assignee_id=form_text(request, "assignee_id", max_length=32),
        department=form_text(request, "department", max_length=32),
        note=form_text(request, "note", max_length=500),
    )
    return _back(ticket_no, "assign")


@console_complaints.post("/<ticket_no:str>/act/<action:str>")
@openapi.exclude()
@page(*STAFF)
async def simple_action(request: Request, ticket_no: str, action: str) -> HTTPResponse:
    chosen = SIMPLE_ACTIONS.get(action)
    if chosen is None:
        raise NotFound(f"no action {action[:20]!r}", code="unknown_action")
    note = form_text(request, "note", max_length=1000)
    await services.staff_act(ticket_no[:20], chosen, principal=current(request), now=_now(), note=note)
    return _back(ticket_no, action)
