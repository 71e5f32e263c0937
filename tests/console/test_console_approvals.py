"""The approval review pages, over real HTTP with a staff session: the department's queue, one
application with its submitted materials previewed inline, and the decision, down to the consolidated
correction notice. Scoping and CSRF are the API's and the console's own rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from domain.accounts.models import Account
from domain.accounts.rules import Role, hash_password
from domain.approvals import services
from domain.approvals.models import Application, ReviewTask
from domain.approvals.rules import ApplicationStatus
from tests.console.helpers import PASSWORD, form_token, login
from tests.integration.approvals_helpers import ENTERPRISE_A, FIELDS, PROJECT, permit_uploads


async def submit_permit_application(app: Any) -> str:
    """An enterprise's construction-permit application, submitted through the app's own services."""
    env = app.ctx.runtime.approvals
    now = dt.datetime.now(dt.UTC)
    draft = await services.create_draft(
        env, ENTERPRISE_A, project_code=PROJECT, stage="construction_permit", fields=FIELDS, now=now
    )
    await services.upload_materials(env, ENTERPRISE_A, draft.code, uploads=permit_uploads(), now=now)
    await services.submit(env, ENTERPRISE_A, draft.code, now=now)
    return str(draft.code)


async def staff_client(app: Any, username: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=str(app.ctx.http.base_url), timeout=30)
    response = await login(client, username)
    assert response.status_code == 303, response.text
    return client


async def fire_reviewer() -> None:
    await Account.create(
        username="fire1", role=Role.STAFF, department="fire", password_hash=hash_password(PASSWORD)
    )


async def test_reviewers_see_preview_and_decide_until_one_correction_notice(console_app: Any) -> None:
    code = await submit_permit_application(console_app)
    await fire_reviewer()
    housing = await staff_client(console_app, "housing1")
    fire = await staff_client(console_app, "fire1")
    try:
        queue = await housing.get("/console/approvals")
        assert queue.status_code == 200 and code in queue.text and "施工许可" in queue.text
        rows = await housing.get("/console/approvals/rows")
        assert code in rows.text and "<html" not in rows.text  # the polled fragment alone

        page = await housing.get(f"/console/approvals/{code}", params={"preview": "fire_design"})
        assert page.status_code == 200
        assert "消防设计文件" in page.text or "fire_design" in page.text
        assert f'src="/console/approvals/{code}/materials/fire_design?version=1"' in page.text
        assert 'id="decision-form"' in page.text
        pdf = await housing.get(f"/console/approvals/{code}/materials/fire_design", params={"version": 1})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-disposition"].startswith("inline")
        assert "frame-ancestors 'self'" in pdf.headers["content-security-policy"]

        housing_task = await ReviewTask.get(application__code=code, department="housing")
        fire_task = await ReviewTask.get(application__code=code, department="fire")
        # A correction without a comment is refused and changes nothing.
        refused = await housing.post(
            f"/console/approvals/tasks/{housing_task.id}/decision",
            data={"csrf_token": form_token(page.text), "decision": "request_correction"},
        )
        assert refused.status_code == 400 and "comment" in refused.text
        assert (await ReviewTask.get(id=housing_task.id)).status.value == "in_review"
        # Another department's task is not housing's to decide.
        other = await housing.post(
            f"/console/approvals/tasks/{fire_task.id}/decision",
            data={"csrf_token": form_token(page.text), "decision": "approve"},
        )
        assert other.status_code in (403, 404)
        assert (await ReviewTask.get(id=fire_task.id)).status.value == "in_review"

        asked = await housing.post(
            f"/console/approvals/tasks/{housing_task.id}/decision",
            data={
                "csrf_token": form_token(page.text),
                "decision": "request_correction",
                "comment": "施工图审查合格书缺少盖章页",
                "materials": ["construction_drawings", "site_plan"],
            },
        )
        assert asked.status_code == 303
        assert asked.headers["location"] == f"/console/approvals/{code}?done=request_correction"
        fire_page = await fire.get(f"/console/approvals/{code}")
        approved = await fire.post(
            f"/console/approvals/tasks/{fire_task.id}/decision",
            data={"csrf_token": form_token(fire_page.text), "decision": "approve", "comment": "同意"},
        )
        assert approved.status_code == 303

        application = await Application.get(code=code)
        assert application.status is ApplicationStatus.CORRECTION_REQUIRED
        final = await housing.get(f"/console/approvals/{code}")
        assert "一次性补正告知" in final.text and "施工图审查合格书缺少盖章页" in final.text
        assert "部门要求补正" in final.text and 'id="decision-form"' not in final.text
        # The application left the review queue with the notice.
        assert code not in (await housing.get("/console/approvals/rows")).text
    finally:
        await housing.aclose()
        await fire.aclose()


async def test_scoping_csrf_and_bad_input(console_app: Any) -> None:
    code = await submit_permit_application(console_app)
    environment = await staff_client(console_app, "env1")  # no task on a construction permit
    housing = await staff_client(console_app, "housing1")
    try:
        assert code not in (await environment.get("/console/approvals")).text
        assert (await environment.get(f"/console/approvals/{code}")).status_code == 404
        material = await environment.get(f"/console/approvals/{code}/materials/fire_design")
        assert material.status_code == 404
        task = await ReviewTask.get(application__code=code, department="housing")
        no_token = await housing.post(
            f"/console/approvals/tasks/{task.id}/decision", data={"decision": "approve"}
        )
        assert no_token.status_code == 403
        page = await housing.get(f"/console/approvals/{code}")
        token = form_token(page.text)
        for data, status in (
            ({"decision": "maybe"}, 400),
            ({"decision": "approve", "comment": "x" * 1001}, 400),
        ):
            response = await housing.post(
                f"/console/approvals/tasks/{task.id}/decision", data={"csrf_token": token, **data}
            )
            assert response.status_code == status, response.text
        for path in (
            "/console/approvals/tasks/0/decision",
            "/console/approvals/tasks/99999999999/decision",
        ):
            response = await housing.post(path, data={"csrf_token": token, "decision": "approve"})
            assert response.status_code == 404, (path, response.status_code)
        assert (await housing.get("/console/approvals/SP2099-9999")).status_code == 404
        assert (await housing.get(f"/console/approvals/{code}/materials/no_such")).status_code == 404
        assert (await ReviewTask.get(id=task.id)).status.value == "in_review"
        async with httpx.AsyncClient(base_url=str(console_app.ctx.http.base_url)) as anonymous:
            response = await anonymous.get(f"/console/approvals/{code}")
            assert response.status_code in (302, 303) and "/console/login" in response.headers["location"]
    finally:
        await environment.aclose()
        await housing.aclose()
