"""Duty roster pages: every department's roster (who escalations go to, or the default roster when a
department has none) and the form that replaces one. Same services and rule as
``/api/v1/staff/duty-roster``: any staff member reads every roster, staff edit their own department's,
admins any, the default one included."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect
from sanic_ext import openapi

from console import labels
from console.forms import arg_text, form_text
from console.guard import current, page
from console.templating import render
from domain.accounts.rules import Principal, Role
from domain.errors import DomainError, NotFound, ValidationFailed
from domain.notifications import escalation
from domain.notifications.rules import DEFAULT_ROSTER, roster_department

console_rosters = Blueprint("console_rosters", url_prefix="/console/rosters")
STAFF = (Role.STAFF,)
BLANK_ROWS = 3
# The default roster first, then the departments in the catalog's order.
ORDER = (DEFAULT_ROSTER, *labels.DEPARTMENTS)


def _department(name: str) -> str:
    if name not in escalation.ROSTER_DEPARTMENTS:
        raise NotFound("no such duty roster", code="roster_not_found")
    return name


def _may_edit(principal: Principal, department: str) -> bool:
    try:
        escalation.check_roster_editor(principal, department)
    except DomainError:
        return False
    return True


@console_rosters.get("/")
@openapi.exclude()
@page(*STAFF)
async def rosters_page(request: Request) -> HTTPResponse:
    entries = await escalation.list_roster()
    staffed = frozenset(entry["department"] for entry in entries)
    principal = current(request)
    rosters = [
        {
            "department": department,
            "entries": [entry for entry in entries if entry["department"] == department],
            "goes_to": roster_department(department, departments_with_roster=staffed),
            "editable": _may_edit(principal, department),
        }
        for department in ORDER
        if department in escalation.ROSTER_DEPARTMENTS
    ]
    return render(
        request,
        "rosters.html",
        rosters=rosters,
        saved=arg_text(request, "saved", max_length=32),
    )


def _edit_form(
    request: Request,
    department: str,
    *,
    current_entries: list[dict[str, str]],
    rows: list[dict[str, str]],
    error: ValidationFailed | None = None,
) -> HTTPResponse:
    blank = {"name": "", "openid": "", "phone": ""}
    wanted = min(escalation.MAX_ROSTER, max(len(rows) + BLANK_ROWS, 5))
    return render(
        request,
        "roster_edit.html",
        status=400 if error else 200,
        department=department,
        current_entries=current_entries,
        rows=rows + [blank] * (wanted - len(rows)),
        max_rows=escalation.MAX_ROSTER,
        error=error,
    )


@console_rosters.get("/<department:str>")
@openapi.exclude()
@page(*STAFF)
async def roster_edit_page(request: Request, department: str) -> HTTPResponse:
    department = _department(department[:32])
    escalation.check_roster_editor(current(request), department)
    current_entries = await escalation.list_roster(department)
    return _edit_form(request, department, current_entries=current_entries, rows=[])


def _submitted_rows(request: Request) -> list[dict[str, str]]:
    # Blank cells kept: the three columns line up by position, row by row.
    form: Any = request.get_form(keep_blank_values=True) or {}
    names, openids, phones = (
        [str(value) for value in (form.getlist(field) or [])][: escalation.MAX_ROSTER + 5]
        for field in ("name", "openid", "phone")
    )
    rows = []
    for index in range(max(len(names), len(openids), len(phones))):
        row = {
            field: (values[index] if index < len(values) else "").strip()[:100]
            for field, values in (("name", names), ("openid", openids), ("phone", phones))
        }
        if any(row.values()):  # an untouched blank line is not a person
            rows.append(row)
    return rows


@console_rosters.post("/<department:str>")
@openapi.exclude()
@page(*STAFF)
async def replace_roster(request: Request, department: str) -> HTTPResponse:
    department = _department(department[:32])
    principal = current(request)
    escalation.check_roster_editor(principal, department)
    rows = _submitted_rows(request)
    try:
        if not rows and form_text(request, "clear", max_length=1) != "1":
            raise ValidationFailed(
                "请至少填写一名值班人员；如要删除该值班表，请勾选“清空值班表”", code="empty_roster"
            )
        await escalation.replace_roster(
            department,
            [escalation.RosterMember(**row) for row in rows],
            actor=f"account:{principal.subject}",
            now=dt.datetime.now(dt.UTC),
        )
    except ValidationFailed as error:
        current_entries = await escalation.list_roster(department)
        return _edit_form(request, department, current_entries=current_entries, rows=rows, error=error)
    return redirect(f"/console/rosters/?saved={department}", status=303)
