"""The emergency board in headless Chromium (Debian's ``chromium`` driven by Playwright; no browser
download): staff open an incident from the board, see it and its nearest resources on the map, and
dispatch one from its map popup. Screenshots go to ``var/screenshots/``. Skipped, with the reason,
only when Chromium or Playwright is absent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domain.emergency import queries as emergency_queries
from tests.console.conftest import running_console
from tests.console.test_browser_journeys import SCREENSHOTS, new_page, pytestmark, sign_in
from tests.console.test_console_emergency import report, seed_resources

__all__ = ["pytestmark"]  # the skip marker of the browser journeys (Chromium, Playwright)


async def test_dispatch_a_resource_from_the_incident_map(
    db_url: str, console_data_dir: Path, browser: Any
) -> None:
    async with running_console(db_url, console_data_dir) as app:
        await seed_resources(app)
        code = await report(title="万昌中路工地塔吊倒塌", hours_ago=1.5)
        page = await new_page(browser, app)
        await sign_in(page)
        await page.click("nav a:has-text('应急指挥')")
        await page.wait_for_url("**/console/emergency")
        row = page.locator(f"#incident-rows tr[data-code='{code}']")
        assert "超时未报县级" in await row.inner_text()
        await page.screenshot(path=SCREENSHOTS / "console-emergency-board.png", full_page=True)

        await row.locator(f"a:has-text('{code}')").click()
        await page.wait_for_url(f"**/console/emergency/{code}")
        await page.locator("path.incident-marker").wait_for()
        markers = page.locator("path.resource-marker")
        await markers.nth(1).wait_for()
        assert await markers.count() == 2
        assert await page.get_attribute("#incident-map", "data-resources") == "2"
        await page.locator(".leaflet-overlay-pane path").nth(0).wait_for()  # the vector base map drew
        await page.screenshot(path=SCREENSHOTS / "console-emergency-incident.png", full_page=True)

        await markers.first.click()
        button = page.locator(".resource-popup button[data-resource]")
        await button.wait_for()
        resource = await button.get_attribute("data-resource")
        await button.click()
        await page.wait_for_selector(".notice:has-text('已调度')")
        targets = {row["target"] for row in (await emergency_queries.detail(code))["dispatches"]}
        assert resource in targets
        assert await page.locator(f"table.dispatches tr[data-target='{resource}']").count() == 1
        assert "已调度" in await page.inner_text(f"table.resources tr[data-resource='{resource}']")
        await page.screenshot(path=SCREENSHOTS / "console-emergency-dispatched.png", full_page=True)
        assert page.errors == [], page.errors  # the hostile resource name never ran, no script failed
