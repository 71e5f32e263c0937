"""HEAD answers for every GET route (load balancers probe with it), with the GET's role checks, and
the routes are in place before the first request (added while the app is built, not at start)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config.app import create_app
from tests.conftest import make_settings


@pytest.fixture
def app(tmp_path: Path, db_url: str) -> Any:
    return create_app(make_settings(tmp_path, database_url=db_url))


def test_every_get_route_has_its_head_route_once_the_app_is_built(app: Any) -> None:
    routes = list(app.router.routes)
    gets = {route.path for route in routes if "GET" in route.methods}
    heads = {route.path for route in routes if "HEAD" in route.methods}
    assert gets and gets <= heads


async def test_head_answers_like_get_without_a_body_and_keeps_the_role_check(app: Any) -> None:
    _, health = await app.asgi_client.head("/healthz")
    assert health.status == 200 and health.body == b""
    _, anonymous = await app.asgi_client.head("/api/v1/admin/outbox")
    assert anonymous.status == 401
    _, docs = await app.asgi_client.get("/docs/openapi.json")
    assert not [path for path, operations in docs.json["paths"].items() if "head" in operations]
