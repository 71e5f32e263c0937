"""Shared fixtures.

Database tests run twice: on SQLite (always) and on PostgreSQL when ``DATABASE_URL`` is set (CI sets
it). Both start from the real migrations. Redis tests use ``REDIS_URL`` with a fresh key prefix per
test, so parallel runs never see each other's keys.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sanic import Sanic
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate

from adapters.config_files import load_policies
from config.container import close_database, init_tortoise
from config.database import tortoise_config
from config.settings import Settings
from domain import policies

Sanic.test_mode = True
pytest_plugins = ["tests.wechat_stub.plugin"]

DATABASE_BACKENDS = ["sqlite", "postgres"]


async def _reset_postgres(url: str) -> None:
    import asyncpg  # noqa: PLC0415

    dsn = url.replace("asyncpg://", "postgres://", 1)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


async def _migrate(url: str) -> None:
    await migrate(config=tortoise_config(url))
    await close_database()


@pytest.fixture(scope="session", autouse=True)
def deployed_policies() -> policies.Policies:
    """What the bootstrap installs in every process: tests that call the domain directly need it too."""
    deployed = load_policies()
    policies.install(deployed)
    return deployed


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """The integration database, reset and migrated once per session."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        yield None
        return
    asyncio.run(_reset_postgres(url))
    asyncio.run(_migrate(url))
    yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating every time)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    asyncio.run(_migrate(f"sqlite://{path}"))
    return path


async def _truncate_all(url: str) -> None:
    await init_tortoise(url)
    connection = connections.get("default")
    tables = [model._meta.db_table for app in Tortoise.apps.values() for model in app.values()]
    await connection.execute_script(
        f"TRUNCATE {', '.join(chr(34) + t + chr(34) for t in tables)} RESTART IDENTITY CASCADE"
    )
    await close_database()


@pytest.fixture(params=DATABASE_BACKENDS)
async def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, postgres_url: str | None
) -> AsyncIterator[str]:
    """A clean, migrated database URL (no connection left open)."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite://{path}"
        return
    if postgres_url is None:
        pytest.skip("DATABASE_URL is not set: PostgreSQL integration run skipped")
    await _truncate_all(postgres_url)
    yield postgres_url


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[str]:
    """Tortoise initialised on a clean database for service-level tests."""
    await init_tortoise(db_url)
    yield db_url
    await close_database()


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL is not set: Redis integration run skipped")
    return url


# Every Redis key a test writes starts with this run's prefix, so the run removes them when it ends
# (tests/conftest.py's ``_remove_this_runs_redis_keys``) and leaves nothing behind without a TTL.
RUN_KEY_PREFIX = f"test:{uuid.uuid4().hex[:8]}:"


def fresh_key_prefix() -> str:
    return f"{RUN_KEY_PREFIX}{uuid.uuid4().hex[:10]}:"


async def _unlink_keys(url: str, pattern: str) -> int:
    import redis.asyncio as aioredis  # noqa: PLC0415

    client = aioredis.from_url(url)
    removed = 0
    try:
        async for key in client.scan_iter(match=pattern, count=1000):
            removed += await client.unlink(key)
    finally:
        await client.aclose()
    return removed


@pytest.fixture(scope="session", autouse=True)
def _remove_this_runs_redis_keys() -> Iterator[None]:
    yield
    url = os.environ.get("REDIS_URL")
    if url:
        asyncio.run(_unlink_keys(url, RUN_KEY_PREFIX + "*"))


@pytest.fixture
def key_prefix() -> str:
    return fresh_key_prefix()


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Embedded-mode settings for a test. Service URLs in the environment (CI sets them) are NOT
    inherited: a test that wants Redis or MQTT passes ``redis_url=``/``mqtt_url=`` itself, and gets a
    key prefix of its own so tests never share leases, caches or streams."""
    base: dict[str, Any] = {
        "data_dir": tmp_path,
        "seed_demo_data": False,
        "database_url": "",
        "redis_url": None,
        "mqtt_url": None,
        "media_s3_endpoint": "",  # CI exports MEDIA_S3_*: only the media-store tests use it
        "redis_key_prefix": fresh_key_prefix(),
    }
    return Settings(**(base | overrides))
