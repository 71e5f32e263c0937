"""The night-work permit API: issuing bureaus register and revoke, anyone asks "covered now?"."""

from __future__ import annotations

from typing import Any

import pytest

from domain.accounts.rules import Role
from tests.integration.test_complaints_api import HOUSING, client, token

__all__ = ["client"]

PERMIT = {
    "certificate_no": "温建夜2026-0031",
    "site_code": "WL-2026-0031-S1",
    "valid_from": "2026-03-10",
    "valid_to": "2026-03-12",
    "night_start": "22:00",
    "night_end": "06:00",
    "works": "混凝土连续浇筑",
    "notice_posted": True,
}


async def test_register_list_check_and_revoke(client: Any) -> None:
    _, created = await client.post("/api/v1/permits", json=PERMIT, headers=HOUSING)
    assert created.status == 201, created.json
    permit_id = created.json["id"]
    _, duplicate = await client.post("/api/v1/permits", json=PERMIT, headers=HOUSING)
    assert duplicate.status == 409
    _, listing = await client.get("/api/v1/permits", params={"site_code": "WL-2026-0031-S1"}, headers=HOUSING)
    assert [p["certificate_no"] for p in listing.json["items"]] == ["温建夜2026-0031"]
    at_night = {"site_code": "WL-2026-0031-S1", "at": "2026-03-11T02:30:00+08:00"}
    _, covered = await client.get("/api/v1/permits/active", params=at_night)
    assert covered.status == 200 and covered.json["permit"]["certificate_no"] == "温建夜2026-0031"
    _, daytime = await client.get("/api/v1/permits/active", params={**at_night, "at": "2026-03-11T12:00:00"})
    assert daytime.json["permit"] is None
    _, revoked = await client.post(f"/api/v1/permits/{permit_id}/revoke", headers=HOUSING)
    assert revoked.json["revoked"] is True
    _, after = await client.get("/api/v1/permits/active", params=at_night)
    assert after.json["permit"] is None


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"site_code": "WL-2099-9999-S1"}, 404, "site_not_found"),
        ({"valid_to": "2026-03-01"}, 400, "invalid_permit_window"),
        ({"valid_to": "2026-09-01"}, 400, "invalid_permit_window"),
        ({"night_start": "25:00"}, 400, "invalid_time"),
        ({"valid_from": "tomorrow"}, 400, "invalid_parameter"),
        ({"certificate_no": "<script>"}, 400, "invalid_certificate_no"),
        ({"notice_posted": "yes"}, 400, "invalid_parameter"),
    ],
)
async def test_bad_permits_are_4xx(client: Any, overrides: dict[str, Any], status: int, code: str) -> None:
    _, response = await client.post("/api/v1/permits", json=PERMIT | overrides, headers=HOUSING)
    assert response.status == status and response.json["code"] == code, response.json


async def test_only_issuing_bureaus_register(client: Any) -> None:
    fire = token(Role.STAFF, subject="7", department="fire")
    _, response = await client.post("/api/v1/permits", json=PERMIT, headers=fire)
    assert response.status == 403
    citizen = token(Role.CITIZEN, subject="8", openid="oCitizenCCCC0003")
    _, response = await client.post("/api/v1/permits", json=PERMIT, headers=citizen)
    assert response.status == 403
    _, missing = await client.get("/api/v1/permits/active")
    assert missing.status == 400
    _, huge = await client.get("/api/v1/permits/99999999999999999999", headers=HOUSING)
    assert huge.status == 404
