"""The duty roster over HTTP: staff read every roster, edit only their own department's; admins edit
any; bad entries are 400 with a stable code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from config.app import create_app
from domain.accounts.rules import Principal, Role, issue_token
from tests.conftest import make_settings

SECRET = "roster-api-test-secret-0123456789abcdef"
URL = "/api/v1/staff/duty-roster/"
ENTRY = {"name": "王值班", "openid": "oHOUSING0000000000000000001", "phone": "13800000001"}


def bearer(role: Role, department: str = "") -> dict[str, str]:
    principal = Principal(subject="7", role=role, department=department)
    token = issue_token(principal, secret=SECRET.encode(), now=dt.datetime.now(dt.UTC))
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
def client(db_url: str, tmp_path: Path) -> Any:
    return create_app(make_settings(tmp_path, database_url=db_url, secret_key=SECRET)).asgi_client


async def test_staff_edit_their_own_department_and_admins_any(client: Any) -> None:
    body = {"entries": [ENTRY]}
    _, own = await client.put(URL + "housing", json=body, headers=bearer(Role.STAFF, "housing"))
    assert own.status == 200 and own.json["items"][0]["name"] == "王值班"
    assert own.json["items"][0]["phone"] == "138****0001" and ENTRY["openid"] not in str(own.json)
    _, other = await client.put(URL + "police", json=body, headers=bearer(Role.STAFF, "housing"))
    assert other.status == 403 and other.json["code"] == "forbidden_department"
    _, default = await client.put(URL + "default", json=body, headers=bearer(Role.ADMIN))
    assert default.status == 200
    _, listing = await client.get(URL, headers=bearer(Role.STAFF, "police"))
    assert [item["department"] for item in listing.json["items"]] == ["default", "housing"]
    _, citizen = await client.get(URL, headers=bearer(Role.CITIZEN))
    assert citizen.status == 403


@pytest.mark.parametrize(
    "body",
    [
        {"entries": [ENTRY | {"phone": "12345"}]},
        {"entries": [{"name": "无联系方式"}]},
        {"entries": "nope"},
        {"entries": [ENTRY | {"name": 5}]},
        {"entries": [ENTRY | {"name": "王\x00"}]},
        {"entries": [ENTRY | {"openid": "o<script>"}]},
    ],
)
async def test_bad_rosters_are_400(client: Any, body: dict[str, Any]) -> None:
    _, response = await client.put(URL + "housing", json=body, headers=bearer(Role.ADMIN))
    assert response.status == 400 and response.json["code"] == "invalid_roster"


async def test_unknown_department_is_400(client: Any) -> None:
    _, response = await client.put(URL + "nowhere", json={"entries": [ENTRY]}, headers=bearer(Role.ADMIN))
    assert response.status == 400 and response.json["code"] == "invalid_roster"
