"""A running app (real HTTP on a free port) over a seeded database, for the console tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from config.app import create_app
from config.container import close_database, init_tortoise
from tests.conftest import make_settings
from tests.console.helpers import seed_staff
from tests.integration.test_complaints_api import seed_sites
from tests.wechat_inbound import serving

SECRET = "console-test-secret-0123456789abcdefgh"


@pytest.fixture(scope="session")
def console_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data directory for every console test: the NLU engine trains once and is loaded from its
    cache afterwards (each test still gets a fresh database)."""
    return tmp_path_factory.mktemp("console-data")


@contextlib.asynccontextmanager
async def running_console(db_url: str, data_dir: Path, **overrides: Any) -> AsyncIterator[Any]:
    """Seed sites and staff accounts, then serve the whole app. Tortoise is global and the app shares
    this process: tests write data through the services while it runs and never close the database."""
    await init_tortoise(db_url)
    await seed_sites()
    await seed_staff()
    await close_database()
    settings = make_settings(
        data_dir, database_url=db_url, secret_key=SECRET, console_login_max_failures=3, **overrides
    )
    async with serving(create_app(settings)) as app:
        yield app


@pytest.fixture
async def console_app(db_url: str, console_data_dir: Path) -> AsyncIterator[Any]:
    async with running_console(db_url, console_data_dir) as app:
        yield app


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless Debian Chromium through Playwright, for the browser journeys (their modules skip, with
    the reason, where Chromium or Playwright is missing)."""
    from tests.console.test_browser_journeys import CHROMIUM, SCREENSHOTS, async_api  # noqa: PLC0415

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield launched
        finally:
            await launched.close()
