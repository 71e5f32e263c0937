"""Browser journey (headless Chromium): every reviewing department approves a construction permit on
the console, the application is granted, and the project it names becomes 在建 with its first
milestone reached, as the project-progress worker applies the outcome."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from adapters.memory import MemoryEventBus
from domain.accounts.models import Account
from domain.accounts.rules import Role, hash_password
from domain.approvals import services
from domain.approvals.models import Application, ReviewTask
from domain.approvals.rules import ApplicationStatus
from domain.projects import progress
from domain.projects.models import Milestone, Project
from domain.projects.rules import ProjectStage
from tests.console.conftest import running_console
from tests.console.helpers import PASSWORD
from tests.console.test_browser_journeys import SCREENSHOTS, new_page, pytestmark, sign_in
from tests.integration.approvals_helpers import ENTERPRISE_A, FIELDS, permit_uploads
from tests.outbox_helpers import relay_and_consume

__all__ = ["pytestmark"]  # the skip marker of the browser journeys (Chromium, Playwright)
PLANNED = "WL-2026-0040"  # seeded in 立项规划


async def _submit(app: Any) -> str:
    env = app.ctx.runtime.approvals
    now = dt.datetime.now(dt.UTC)
    draft = await services.create_draft(
        env, ENTERPRISE_A, project_code=PLANNED, stage="construction_permit", fields=FIELDS, now=now
    )
    await services.upload_materials(env, ENTERPRISE_A, draft.code, uploads=permit_uploads(), now=now)
    await services.submit(env, ENTERPRISE_A, draft.code, now=now)
    return str(draft.code)


async def _reviewer(department: str) -> str:
    account = await Account.filter(role=Role.STAFF, department=department).first()
    if account is None:
        account = await Account.create(username=f"{department}1", role=Role.STAFF, department=department)
    account.password_hash = hash_password(PASSWORD)
    await account.save()
    return str(account.username)


async def _apply_outcomes() -> None:
    """What the relay and the project-progress worker do in production, run once here."""
    await relay_and_consume(
        MemoryEventBus(),
        group=progress.CONSUMER_GROUP,
        event_names=progress.CONSUMED_EVENTS,
        handle=progress.handle_event,
    )


async def test_departments_approve_a_permit_and_the_project_is_under_construction(
    db_url: str, console_data_dir: Path, browser: Any
) -> None:
    async with running_console(db_url, console_data_dir) as app:
        project = await Project.get(code=PLANNED)
        await Milestone.create(project=project, seq=1, name="施工许可取得", planned_date=dt.date.today())
        code = await _submit(app)
        application = await Application.get(code=code)
        departments = sorted(
            {task.department for task in await ReviewTask.filter(application_id=application.id)}
        )
        assert len(departments) >= 2  # parallel review
        for index, department in enumerate(departments):
            page = await new_page(browser, app)
            await sign_in(page, await _reviewer(department))
            await page.click("nav a:has-text('并联审批')")
            await page.click(f"a:has-text('{code}')")
            await page.locator("ul.materials li a").first.click()
            await page.locator("iframe.preview").wait_for()  # a material, previewed inline
            if index == 0:
                await page.screenshot(path=SCREENSHOTS / "console-approval-review.png", full_page=True)
            await page.check("#decision-form input[name=decision][value=approve]")
            await page.click("#decision-form button[type=submit]")
            await page.wait_for_selector("p.notice")
            assert page.errors == [], page.errors
            await page.context.close()
        assert (await Application.get(code=code)).status is ApplicationStatus.APPROVED

        await _apply_outcomes()
        page = await new_page(browser, app)
        await sign_in(page)
        await page.click("nav a:has-text('工程项目')")
        await page.click(f"a:has-text('{PLANNED}')")
        facts = await page.inner_text("dl.facts")
        assert "在建" in facts
        assert await page.locator(".gantt-row.gantt-done").count() == 1
        await page.screenshot(path=SCREENSHOTS / "console-project-progress.png", full_page=True)
        assert (await Project.get(code=PLANNED)).stage is ProjectStage.CONSTRUCTION
        assert page.errors == [], page.errors
