"""Project pages for staff: the register searched by name, road, town or stage, and one project's
progress (stage, milestones as a Gantt-style chart, sites with links to their alarms and complaints).
Same services as ``GET /api/v1/projects`` and ``/api/v1/projects/{code}``; every staff member reads."""

from __future__ import annotations

import datetime as dt
import math
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi

from console.forms import arg_enum, arg_int, arg_text
from console.gantt import gantt
from console.guard import page
from console.templating import render
from domain.accounts.rules import Role
from domain.complaints.queries import project_counts
from domain.projects.rules import PROJECT_STAGE_LABELS, ProjectStage
from domain.projects.services import ProjectQuery, project_details, search_projects

console_projects = Blueprint("console_projects", url_prefix="/console/projects")
PAGE_SIZE = 20
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


@console_projects.get("/")
@openapi.exclude()
@page(Role.STAFF)
async def projects_page(request: Request) -> HTTPResponse:
    stage = arg_enum(request, "stage", ProjectStage)
    query = ProjectQuery(
        q=arg_text(request, "q", max_length=40),
        town=arg_text(request, "town", max_length=16),
        stage=stage,
        page=arg_int(request, "page", default=1, low=1, high=10_000),
        page_size=PAGE_SIZE,
    )
    result = await search_projects(query)
    return render(
        request,
        "projects.html",
        result=result,
        q=query.q,
        town=query.town,
        selected_stage=stage.value if stage else "",
        stages={s.value: label for s, label in PROJECT_STAGE_LABELS.items()},
        pages=max(1, math.ceil(result.total / PAGE_SIZE)),
        pager_query=urlencode([(k, v) for k, v in request.query_args if k != "page"]),
    )


@console_projects.get("/<code:str>")
@openapi.exclude()
@page(Role.STAFF)
async def project_page(request: Request, code: str) -> HTTPResponse:
    project = await project_details(code[:24])
    return render(
        request,
        "project.html",
        project=project,
        chart=gantt(project, today=dt.datetime.now(LOCAL_TZ).date()),
        counts=await project_counts(project["code"]),
    )
