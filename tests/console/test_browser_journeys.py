"""Browser journeys in headless Chromium (Debian's ``chromium`` driven by Playwright for Python; no
browser download). Screenshots go to ``var/screenshots/``. Skipped, with the reason, only when
Chromium or Playwright is absent (``make system-deps`` installs Chromium)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

from adapters.wechat.dispatcher import build_dispatcher
from domain.alerts import services as alerts
from domain.notifications.services import record_interaction
from tests.console.conftest import running_console
from tests.console.helpers import PASSWORD, XSS_IMG, XSS_SCRIPT, file_complaint, raise_alarm, seed_readings
from tests.live_server import REPO_ROOT
from tests.wechat_stub.plugin import stub_settings

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
async_api = pytest.importorskip(
    "playwright.async_api", reason="playwright is not installed (requirements-dev.txt)"
)
pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists(),
    reason="Debian's chromium is not installed at /usr/bin/chromium (make system-deps installs it)",
)
CITIZEN = "oCitizenBrowser0001"


async def new_page(browser: Any, app: Any, **context: Any) -> Any:
    page = await (
        await browser.new_context(base_url=str(app.ctx.http.base_url), locale="zh-CN", **context)
    ).new_page()
    page.set_default_timeout(20_000)
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("dialog", lambda dialog: page.errors.append(f"dialog: {dialog.message}"))
    return page


async def sign_in(page: Any, username: str = "housing1") -> None:
    await page.goto("/console")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button:has-text('登录')")
    await page.wait_for_url("**/console/complaints")


async def test_staff_reply_in_the_browser_reaches_the_citizen_on_wechat(
    db_url: str, console_data_dir: Path, wechat_stub: Any, browser: Any
) -> None:
    async with running_console(db_url, console_data_dir, **stub_settings(wechat_stub)) as app:
        await record_interaction(CITIZEN, now=dt.datetime.now(dt.UTC))  # inside the 48 h window
        ticket_no = await file_complaint(openid=CITIZEN, description=f"夜里打桩 {XSS_SCRIPT}{XSS_IMG}")
        page = await new_page(browser, app)
        await sign_in(page)
        row = page.locator(f"#complaint-rows a:has-text('{ticket_no}')")
        await row.wait_for()
        # A ticket filed while the queue is open appears by htmx polling, without a reload.
        second = await file_complaint(openid="oCitizenBrowser0002", description="工地扬尘很大")
        await page.evaluate("document.body.dispatchEvent(new Event('console:refresh'))")
        await page.locator(f"#complaint-rows a:has-text('{second}')").wait_for()
        await page.screenshot(path=SCREENSHOTS / "console-complaints-queue.png", full_page=True)

        await row.click()
        await page.wait_for_url(f"**/console/complaints/{ticket_no}")
        assert XSS_SCRIPT in await page.inner_text(".description")  # shown as text, not run
        for button in ("签收", "开始办理"):
            await page.click(f"button:has-text('{button}')")
            await page.wait_for_selector(".notice")
        await page.fill("textarea[name=text]", "已责令停止夜间打桩，明日复查")
        await page.click("button:has-text('发送答复')")
        await page.wait_for_selector(".notice:has-text('答复')")
        assert "已责令停止夜间打桩" in await page.inner_text(".timeline")
        await page.screenshot(path=SCREENSHOTS / "console-complaint-replied.png", full_page=True)
        assert page.errors == [], page.errors  # the XSS payload never ran, no script failed

        dispatcher = await build_dispatcher(app.ctx.runtime)
        while await dispatcher.run_once():
            pass
        pushed = [m for m in wechat_stub.sent if m.get("openid") == CITIZEN]
        assert any("已责令停止夜间打桩" in str(message) for message in pushed), wechat_stub.sent


async def test_acknowledge_an_alarm_from_the_map(db_url: str, console_data_dir: Path, browser: Any) -> None:
    async with running_console(db_url, console_data_dir) as app:
        alarm_id = await raise_alarm()
        page = await new_page(browser, app)
        await sign_in(page)
        await page.goto("/console/alarms")
        marker = page.locator("path.alarm-marker")
        await marker.first.wait_for()
        await page.locator(".leaflet-overlay-pane path").nth(0).wait_for()  # the vector base map drew
        await page.screenshot(path=SCREENSHOTS / "console-alarm-map.png", full_page=True)
        await marker.first.click()
        await page.click(f".alarm-popup button[data-alarm='{alarm_id}']")
        await page.wait_for_selector(".notice:has-text('已确认告警')")
        assert (await alerts.alarm_detail(alarm_id))["state"] == "acknowledged"
        assert "已确认" in await page.inner_text("#alarm-rows")
        assert page.errors == [], page.errors


async def test_report_dashboard_draws_charts_with_data(
    db_url: str, console_data_dir: Path, browser: Any
) -> None:
    async with running_console(db_url, console_data_dir) as app:
        await file_complaint()
        await file_complaint(description="渣土车撒漏", openid="oCitizenBrowser0003")
        await raise_alarm()
        page = await new_page(browser, app)
        await sign_in(page)
        await page.goto("/console/reports")
        chart = page.locator("[data-chart='complaints_by_type'][data-rendered='true'] svg")
        await chart.wait_for()
        # Value labels are drawn on the bars: the two complaints of the period are in the SVG.
        labels = await chart.locator("text").all_text_contents()
        assert "2" in labels, labels
        assert await page.locator("[data-chart='alarms_by_severity'] svg path").count() > 0
        assert await page.locator("text=本期无数据").count() >= 1  # e.g. credit grades: said, not drawn
        await page.screenshot(path=SCREENSHOTS / "console-report-dashboard.png", full_page=True)
        async with page.expect_download() as download:
            await page.click("text=下载 Excel 报表")
        assert (await download.value).suggested_filename.endswith(".xlsx")
        assert page.errors == [], page.errors


async def test_public_project_page_on_a_phone(db_url: str, console_data_dir: Path, browser: Any) -> None:
    async with running_console(db_url, console_data_dir) as app:
        await seed_readings()
        await file_complaint(description="电话13800000000 王小明")
        page = await new_page(browser, app, viewport={"width": 375, "height": 740}, is_mobile=True)
        response = await page.goto("/p/projects/WL-2026-0031")
        assert response.status == 200
        text = await page.inner_text("body")
        assert "项目WL-2026-0031" in text and "在建" in text and "近 7 日扬尘" in text
        assert "13800000000" not in text and "王小明" not in text  # counts only, no personal data
        assert await page.locator(".bars .track span.over").count() == 1  # today's 210 µg/m³ > 150
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the page scrolls sideways on a phone ({width}px)"
        await page.screenshot(path=SCREENSHOTS / "public-project-phone.png", full_page=True)
        transparency = await page.goto("/p/transparency")
        assert transparency.status == 200 and "投诉答复率" in await page.inner_text("body")
