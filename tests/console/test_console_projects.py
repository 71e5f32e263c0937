"""Project pages: the register searched by staff, one project's progress as a Gantt-style chart (also
on the public page), and the usual refusals, over real HTTP with a staff session."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from domain.projects.models import Milestone, Project
from tests.console.helpers import XSS_IMG, XSS_SCRIPT
from tests.console.test_console_approvals import staff_client


async def _milestones(code: str) -> None:
    project = await Project.get(code=code)
    today = dt.date.today()
    for seq, (name, planned, actual) in enumerate(
        (
            ("施工许可取得", today - dt.timedelta(days=200), today - dt.timedelta(days=190)),
            ("主体结构封顶", today - dt.timedelta(days=10), None),
            ("竣工验收", today + dt.timedelta(days=300), None),
        ),
        start=1,
    ):
        await Milestone.create(project=project, seq=seq, name=name, planned_date=planned, actual_date=actual)


async def test_staff_search_the_register_and_read_a_projects_progress(console_app: Any) -> None:
    await _milestones("WL-2026-0031")
    staff = await staff_client(console_app, "housing1")
    try:
        listed = await staff.get("/console/projects/", params={"q": "项目WL-2026-0031"})
        assert listed.status_code == 200 and 'href="/console/projects/WL-2026-0031"' in listed.text
        planning = await staff.get("/console/projects/", params={"stage": "planning"})
        assert "WL-2026-0040" in planning.text and "WL-2026-0031" not in planning.text
        assert "立项规划" in planning.text

        page = await staff.get("/console/projects/WL-2026-0031")
        assert page.status_code == 200
        text = page.text
        assert text.count('class="gantt-row') == 3
        assert (
            "gantt-row gantt-done" in text
            and "gantt-row gantt-late" in text
            and "gantt-row gantt-open" in text
        )
        assert "逾期" in text and "gantt-today" in text
        assert "/console/alarms?site_code=WL-2026-0031-S1" in text and "在建" in text
    finally:
        await staff.aclose()

    async with httpx.AsyncClient(base_url=str(console_app.ctx.http.base_url)) as public:
        shown = await public.get("/p/projects/WL-2026-0031")
        assert shown.status_code == 200 and shown.text.count('class="gantt-row') == 3


async def test_refusals_and_escaping(console_app: Any) -> None:
    await Project.filter(code="WL-2026-0040").update(name=XSS_SCRIPT + XSS_IMG)
    async with httpx.AsyncClient(base_url=str(console_app.ctx.http.base_url)) as anonymous:
        for path in ("/console/projects/", "/console/projects/WL-2026-0031"):
            answer = await anonymous.get(path)
            assert answer.status_code in (302, 303) and "/console/login" in answer.headers["location"]
    staff = await staff_client(console_app, "housing1")
    try:
        assert (await staff.get("/console/projects/WL-2099-0001")).status_code == 404
        assert (await staff.get("/console/projects/", params={"stage": "demolished"})).status_code == 400
        assert (await staff.get("/console/projects/", params={"q": "长" * 41})).status_code == 400
        for path in ("/console/projects/", "/console/projects/WL-2026-0040"):
            text = (await staff.get(path)).text
            assert XSS_SCRIPT not in text and "<img src=x" not in text and "&lt;script&gt;" in text
    finally:
        await staff.aclose()
