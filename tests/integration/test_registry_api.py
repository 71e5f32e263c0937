"""The registry over HTTP: roles, the template, a dry run and an import of an XLSX city file,
single-record create/change/retire, and the audit trail."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from config.app import create_app
from domain.accounts.rules import Principal, Role, issue_token
from domain.projects.registry_files import xlsx_city_file
from tests.city_file import city_sheets
from tests.conftest import make_settings

SECRET = "registry-api-test-secret-0123456789abcdef"


def bearer(role: Role, department: str = "") -> dict[str, str]:
    principal = Principal(subject="7", role=role, department=department)
    token = issue_token(principal, secret=SECRET.encode(), now=dt.datetime.now(dt.UTC))
    return {"authorization": f"Bearer {token}"}


HOUSING = bearer(Role.STAFF, "housing")


@pytest.fixture
def client(db_url: str, tmp_path: Path) -> Any:
    return create_app(make_settings(tmp_path, database_url=db_url, secret_key=SECRET)).asgi_client


async def upload(client: Any, data: bytes, *, dry_run: str, headers: dict[str, str] = HOUSING) -> Any:
    files = {"file": ("city.xlsx", data, "application/octet-stream")}
    _, response = await client.post(
        f"/api/v1/admin/registry/import?dry_run={dry_run}", files=files, headers=headers
    )
    return response


async def test_only_admins_and_the_housing_bureau_change_the_registry(client: Any) -> None:
    data = xlsx_city_file(city_sheets(sites=2))
    assert (await upload(client, data, dry_run="false", headers={})).status == 401
    planning = await upload(client, data, dry_run="false", headers=bearer(Role.STAFF, "planning"))
    assert planning.status == 403 and planning.json["code"] == "forbidden_department"
    assert (await upload(client, data, dry_run="false", headers=bearer(Role.ENTERPRISE))).status == 403
    _, export = await client.get("/api/v1/admin/registry/export", headers=bearer(Role.STAFF, "planning"))
    assert export.status == 200  # every department reads it


async def test_template_then_dry_run_then_import_of_an_xlsx_city_file(client: Any) -> None:
    _, template = await client.get("/api/v1/admin/registry/template", headers=HOUSING)
    assert template.status == 200
    workbook = load_workbook(io.BytesIO(template.body), read_only=True)
    assert workbook.sheetnames == ["企业", "人员", "项目", "工地", "设备", "摄像头", "说明"]
    data = xlsx_city_file(city_sheets(sites=5))
    dry = await upload(client, data, dry_run="true")
    assert dry.status == 200 and dry.json["ok"] and dry.json["created"]["sites"] == 5
    _, before = await client.get("/api/v1/projects", params={"page_size": 50})
    assert before.json["total"] == 0  # a dry run writes nothing
    real = await upload(client, data, dry_run="false")
    assert real.status == 200 and real.json["created"]["cameras"] == 15
    _, after = await client.get("/api/v1/projects/WL-2026-0003")
    assert after.status == 200 and after.json["name"] == "温岭示范工程3号"


async def test_a_bad_file_gets_problems_in_chinese_and_a_broken_one_a_clear_400(client: Any) -> None:
    sheets = city_sheets(sites=2)
    sheets[next(iter(sheets))][1][0] = "not-a-uscc"
    response = await upload(client, xlsx_city_file(sheets), dry_run="false")
    assert response.status == 400 and response.json["code"] == "import_invalid"
    assert "「企业」第 2 行「统一社会信用代码」" in response.json["problems"][0]
    broken = await upload(client, b"PK\x03\x04 not really a workbook", dry_run="true")
    assert broken.status == 400 and broken.json["code"] == "unreadable_file"


async def test_create_change_and_retire_one_device_with_an_audit_trail(client: Any) -> None:
    await upload(client, xlsx_city_file(city_sheets(sites=1)), dry_run="false")
    body = {"site_code": "S0001", "device_type": "扬尘", "interval_s": 60}
    _, created = await client.post(
        "/api/v1/admin/registry/devices/33108199000001", json=body, headers=HOUSING
    )
    assert created.status == 201 and created.json["created"]["devices"] == 1
    _, again = await client.post("/api/v1/admin/registry/devices/33108199000001", json=body, headers=HOUSING)
    assert again.status == 409
    _, bad = await client.patch(
        "/api/v1/admin/registry/devices/33108199000001", json={"interval_s": 1}, headers=HOUSING
    )
    assert bad.status == 400 and "上报间隔" in bad.json["problems"][0]
    _, changed = await client.patch(
        "/api/v1/admin/registry/devices/33108199000001", json={"上报间隔(秒)": "120"}, headers=HOUSING
    )
    assert changed.status == 200 and changed.json["updated"]["devices"] == 1
    _, retired = await client.delete("/api/v1/admin/registry/devices/33108199000001", headers=HOUSING)
    assert retired.status == 200
    _, missing = await client.delete("/api/v1/admin/registry/devices/nope", headers=HOUSING)
    assert missing.status == 404
    _, trail = await client.get(
        "/api/v1/admin/registry/audit", params={"sheet": "devices", "key": "33108199000001"}, headers=HOUSING
    )
    actions = [(e["action"], e["after"]) for e in trail.json["items"]]
    assert actions[0] == ("update", {"enabled": False}) and actions[1] == ("update", {"interval_s": 120})
    assert actions[2][0] == "create" and trail.json["items"][0]["actor"] == "staff:7"


async def test_a_device_login_is_shown_once_to_the_housing_bureau_only(client: Any) -> None:
    await upload(client, xlsx_city_file(city_sheets(sites=1)), dry_run="false")
    url = "/api/v1/admin/registry/devices/33108100000000/mqtt-login"
    _, planning = await client.post(url, headers=bearer(Role.STAFF, "planning"))
    assert planning.status == 403
    _, first = await client.post(url, headers=HOUSING)
    assert first.status == 201 and first.headers["cache-control"] == "no-store"
    assert first.json["topic"] == "wenling/S0001/dust/33108100000000/telemetry"
    _, second = await client.post(url, headers=HOUSING)
    assert second.json["password"] != first.json["password"]  # rotated
    _, export = await client.get("/api/v1/admin/registry/export?format=csv&sheet=devices", headers=HOUSING)
    assert first.json["password"].encode() not in export.body
    _, missing = await client.post("/api/v1/admin/registry/devices/nope/mqtt-login", headers=HOUSING)
    assert missing.status == 404


@pytest.mark.parametrize("operation", ["mqtt-login", "hj212-password"])
async def test_a_device_code_with_control_characters_is_a_clear_404_not_a_crash(
    client: Any, operation: str
) -> None:
    """Fuzzing found both credential operations answering 500 for codes like '·La\\x10\\x93…'."""
    for code in ("%C2%B7La%10%C2%93%C2%948p%07", "%F2%A0%8B%A6%C2%8C%C2%AA%F1%8F%B9%8F%C2%88", "a" * 41):
        _, response = await client.post(f"/api/v1/admin/registry/devices/{code}/{operation}", headers=HOUSING)
        assert response.status == 404, (code, response.status, response.text)
        assert response.json["code"] == "registry_record_not_found"
