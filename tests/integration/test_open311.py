"""Open311 GeoReport v2 conformance, endpoint by endpoint (JSON format), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.test_complaints_api import CITIZEN_A, HOUSING, NEAR_A, client, file_complaint

__all__ = ["client"]  # the fixture, shared with the API tests

KEY = "k-test-12345"
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}


def form(**overrides: str) -> dict[str, str]:
    return {
        "api_key": KEY,
        "service_code": "night_noise",
        "lat": str(NEAR_A[0]),
        "long": str(NEAR_A[1]),
        "address_string": "温岭市太平街道万昌中路",
        "description": "凌晨两点还在打桩",
        "media_url": "https://example.org/p.jpg",
        "phone": "13900000000",
        "first_name": "四",
        "last_name": "李",
    } | overrides


async def test_services_list(client: Any) -> None:
    _, response = await client.get("/open311/v2/services.json")
    assert response.status == 200
    services = response.json
    assert isinstance(services, list) and services
    for service in services:
        assert {
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        } <= set(service)
        assert service["metadata"] is False and service["type"] in ("realtime", "batch", "blackbox")
    assert "night_noise" in {s["service_code"] for s in services}


async def test_post_request_needs_a_valid_api_key(client: Any) -> None:
    for params in (form(api_key=""), form(api_key="k-test-1234"), form(api_key="k-test-123456")):
        _, response = await client.post("/open311/v2/requests.json", data=params)
        assert response.status == 401
        assert isinstance(response.json, list) and response.json[0]["code"] == 401
        assert response.json[0]["description"]


async def test_post_then_read_back(client: Any) -> None:
    _, created = await client.post("/open311/v2/requests.json", data=form())
    assert created.status == 201, created.json
    [receipt] = created.json
    request_id = receipt["service_request_id"]
    assert request_id.startswith("TS") and "account_id" in receipt and receipt["service_notice"]

    _, one = await client.get(f"/open311/v2/requests/{request_id}.json")
    assert one.status == 200
    [item] = one.json
    assert set(item) == REQUEST_FIELDS
    assert item["status"] == "open" and item["service_code"] == "night_noise"
    assert item["lat"] == pytest.approx(NEAR_A[0]) and item["long"] == pytest.approx(NEAR_A[1])
    assert item["agency_responsible"] == "温岭市住房和城乡建设局"
    assert item["media_url"] == "https://example.org/p.jpg"
    assert item["requested_datetime"].endswith("+00:00") and item["expected_datetime"]
    assert "13900000000" not in one.body.decode() and "李四" not in one.body.decode()

    _, listing = await client.get("/open311/v2/requests.json")
    assert request_id in {r["service_request_id"] for r in listing.json}
    _, by_ids = await client.get(
        "/open311/v2/requests.json", params={"service_request_id": f"{request_id},TS20990101001"}
    )
    assert [r["service_request_id"] for r in by_ids.json] == [request_id]
    _, closed = await client.get("/open311/v2/requests.json", params={"status": "closed"})
    assert closed.json == []
    _, other_code = await client.get("/open311/v2/requests.json", params={"service_code": "dust"})
    assert other_code.json == []
    _, dated = await client.get(
        "/open311/v2/requests.json",
        params={"start_date": "2000-01-01T00:00:00Z", "end_date": "2000-01-02T00:00:00Z"},
    )
    assert dated.json == []


async def test_closed_states_and_status_notes(client: Any) -> None:
    ticket_no = (await file_complaint(client, CITIZEN_A))["ticket_no"]
    await client.post(
        f"/api/v1/staff/complaints/{ticket_no}/refuse", json={"note": "持有夜间施工许可"}, headers=HOUSING
    )
    _, one = await client.get(f"/open311/v2/requests/{ticket_no}.json")
    assert one.json[0]["status"] == "closed" and one.json[0]["status_notes"] == ""
    _, closed = await client.get("/open311/v2/requests.json", params={"status": "closed"})
    assert [r["service_request_id"] for r in closed.json] == [ticket_no]


@pytest.mark.parametrize(
    ("method", "path", "params", "status"),
    [
        ("get", "/open311/v2/requests/TS20990101001.json", None, 404),
        ("get", "/open311/v2/requests/nonsense.json", None, 400),
        ("get", "/open311/v2/requests/TS20260101001.xml", None, 404),
        ("get", "/open311/v2/requests.json", {"status": "pending"}, 400),
        ("get", "/open311/v2/requests.json", {"start_date": "last week"}, 400),
        ("get", "/open311/v2/requests.json", {"service_request_id": "x"}, 400),
        ("post", "/open311/v2/requests.json", form(service_code="aliens"), 400),
        ("post", "/open311/v2/requests.json", form(lat="north", long="121"), 400),
        ("post", "/open311/v2/requests.json", form(lat="", long="", address_string=""), 400),
        ("post", "/open311/v2/requests.json", form(media_url="javascript:alert(1)"), 400),
    ],
)
async def test_errors_use_the_georeport_format(
    client: Any, method: str, path: str, params: dict[str, str] | None, status: int
) -> None:
    if method == "get":
        _, response = await client.get(path, params=params)
    else:
        _, response = await client.post(path, data=params)
    assert response.status == status, response.json
    assert (
        isinstance(response.json, list)
        and response.json[0]["code"] == status
        and response.json[0]["description"]
    )


async def test_json_body_is_accepted_too(client: Any) -> None:
    _, created = await client.post("/open311/v2/requests.json", json=form(service_code="dust"))
    assert created.status == 201
    _, broken = await client.post(
        "/open311/v2/requests.json", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert broken.status == 400 and isinstance(broken.json, list)
