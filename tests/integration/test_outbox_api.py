"""Admin outbox listing over HTTP: only admins see it; filters and pagination are checked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from tortoise import Tortoise

from config.app import create_app
from config.container import close_database
from config.database import tortoise_config
from domain.accounts.rules import Principal, Role, issue_token
from domain.notifications import services
from tests.conftest import make_settings

SECRET = "outbox-api-test-secret-0123456789abcdef"


def bearer(role: Role) -> dict[str, str]:
    token = issue_token(
        Principal(subject="7", role=role), secret=SECRET.encode(), now=dt.datetime.now(dt.UTC)
    )
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
def client(db_url: str, tmp_path: Path) -> Any:
    app = create_app(make_settings(tmp_path, database_url=db_url, secret_key=SECRET))
    return app.asgi_client


async def _queue_messages(db_url: str) -> None:
    await Tortoise.init(config=tortoise_config(db_url))
    try:
        await _enqueue_some()
    finally:
        await close_database()


async def _enqueue_some() -> None:
    for n in range(3):
        await services.enqueue(
            recipient_openid=f"oUSER{n:021d}",
            text="您好",
            idempotency_key=f"api:{n}",
            category="complaint_reply",
        )
    await services.enqueue(
        recipient_openid="oUSER000000000000000000009", text="告警", idempotency_key="api:a", category="alarm"
    )


async def test_only_admins_list_the_outbox(client: Any) -> None:
    _, anonymous = await client.get("/api/v1/admin/outbox")
    assert anonymous.status == 401
    _, staff = await client.get("/api/v1/admin/outbox", headers=bearer(Role.STAFF))
    assert staff.status == 403 and staff.json["code"] == "forbidden_role"
    _, admin = await client.get("/api/v1/admin/outbox", headers=bearer(Role.ADMIN))
    assert admin.status == 200
    assert admin.json["items"] == [] and admin.json["total"] == 0
    assert admin.json["counters"] == {
        "failed": 0,
        "failed_alerted": 0,
        "unconfirmed": 0,
        "waiting_for_interaction": 0,
    }


async def test_filters_and_pages(client: Any, db_url: str) -> None:
    await _queue_messages(db_url)
    _, listing = await client.get(
        "/api/v1/admin/outbox",
        headers=bearer(Role.ADMIN),
        params={"status": "pending", "category": "complaint_reply", "page_size": 2, "page": 2},
    )
    assert listing.status == 200
    assert listing.json["total"] == 3 and len(listing.json["items"]) == 1
    item = listing.json["items"][0]
    assert (
        item["category"] == "complaint_reply"
        and item["recipient"].startswith("oUSE")
        and "***" in item["recipient"]
    )


@pytest.mark.parametrize(
    "params", [{"status": "nope"}, {"page": "0"}, {"page_size": "101"}, {"category": "x" * 40}, {"page": "a"}]
)
async def test_bad_parameters_are_400(client: Any, params: dict[str, str]) -> None:
    _, response = await client.get("/api/v1/admin/outbox", headers=bearer(Role.ADMIN), params=params)
    assert response.status == 400 and response.json["code"] == "invalid_parameter"
