"""The credit HTTP doors: who may do what, the public lookup, appeals with attachments, imports, export."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PIL import Image

from config.app import create_app
from domain.accounts.rules import Principal, Role, issue_token
from domain.projects.rules import uscc_check_char
from tests.conftest import make_settings

COMPANY = "91331081MA0000077" + uscc_check_char("91331081MA0000077")
OTHER = "91331081MA0000078" + uscc_check_char("91331081MA0000078")


def token(role: Role, *, department: str = "", uscc: str = "", subject: str = "1") -> dict[str, str]:
    settings = make_settings(Path("/tmp"))
    principal = Principal(subject=subject, role=role, department=department, enterprise_uscc=uscc)
    value = issue_token(
        principal, secret=settings.secret_key.get_secret_value().encode(), now=dt.datetime.now(dt.UTC)
    )
    return {"Authorization": f"Bearer {value}"}


HOUSING = token(Role.STAFF, department="housing")
PLANNING = token(Role.STAFF, department="planning")
ENTERPRISE = token(Role.ENTERPRISE, uscc=COMPANY, subject="21")
OTHER_ENTERPRISE = token(Role.ENTERPRISE, uscc=OTHER, subject="22")
SITE_MANAGER = token(Role.SITE_MANAGER, subject="31")
CITIZEN = token(Role.CITIZEN, subject="41")


@pytest.fixture
def client(db_url: str, tmp_path: Path) -> Any:
    return create_app(make_settings(tmp_path, database_url=db_url)).asgi_client


def record_body(**overrides: object) -> dict[str, object]:
    today = dt.datetime.now(dt.UTC).date()
    return {
        "subject_kind": "enterprise",
        "subject_id": COMPANY,
        "subject_name": "温岭市信用测试建设有限公司",
        "record_type": "inspection_major_hazard",
        "effective_on": (today - dt.timedelta(days=3)).isoformat(),
        "source_ref": "温建检〔2026〕88号",
        "project_code": "WL-2026-0031",
        "summary": "脚手架连墙件缺失，现场负责人张三 13800000000",
    } | overrides


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("get", "/api/v1/credit/me", {}, 401),
        ("get", "/api/v1/credit/me", CITIZEN, 403),
        ("post", "/api/v1/credit/records", ENTERPRISE, 403),
        ("post", "/api/v1/credit/records", PLANNING, 403),  # staff, but not a deciding department
        ("get", "/api/v1/credit/records", ENTERPRISE, 403),
        ("get", "/api/v1/credit/export", SITE_MANAGER, 403),
        ("post", "/api/v1/credit/appeals/1/decision", ENTERPRISE, 403),
        ("post", "/api/v1/credit/records/1/appeals", HOUSING, 403),
        ("get", "/api/v1/credit/me", SITE_MANAGER, 404),  # no file bound to this account yet
    ],
)
async def test_authorization(
    client: Any, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    extra: dict[str, Any] = {"json": {}} if method == "post" else {}
    _, response = await getattr(client, method)(path, headers=headers, **extra)
    assert response.status == status
    assert {"code", "message"} <= set(response.json)


async def test_record_appeal_and_views(client: Any) -> None:
    _, created = await client.post("/api/v1/credit/records", headers=HOUSING, json=record_body())
    assert created.status == 201, created.body
    record_id = created.json["record_id"]

    _, mine = await client.get("/api/v1/credit/me", headers=ENTERPRISE)
    assert mine.status == 200
    assert (mine.json["score"], mine.json["grade"]) == (94, "C")
    assert mine.json["records"][0]["expires_on"] and len(mine.json["trend"]) == 12
    assert mine.json["explanation"][0]["source_ref"] == "温建检〔2026〕88号"

    _, public = await client.get("/api/v1/credit/public", params={"q": "信用测试"})
    assert public.status == 200 and public.json["items"][0]["grade"] == "C"
    assert "13800000000" not in public.body.decode() and "张三" not in public.body.decode()
    assert "score" not in public.json["items"][0]

    _, foreign = await client.post(
        f"/api/v1/credit/records/{record_id}/appeals",
        headers=OTHER_ENTERPRISE,
        json={"reason": "这不是我们的记录"},
    )
    assert foreign.status == 404
    _, appeal = await client.post(
        f"/api/v1/credit/records/{record_id}/appeals",
        headers=ENTERPRISE,
        data={"reason": "已当日整改完毕，见照片"},
        files={"attachments": ("photo.png", png(), "image/png")},
    )
    assert appeal.status == 201, appeal.body
    assert appeal.json["attachments"][0].endswith(".png")
    _, fake = await client.post(
        f"/api/v1/credit/records/{record_id}/appeals",
        headers=ENTERPRISE,
        data={"reason": "再传一个假的图片"},
        files={"attachments": ("x.png", b"MZ not an image", "image/png")},
    )
    assert fake.status == 400 and fake.json["code"] == "unsupported_type"

    _, queue = await client.get("/api/v1/credit/appeals", headers=HOUSING, params={"status": "filed"})
    appeal_id = queue.json["items"][0]["id"]
    _, bad = await client.post(
        f"/api/v1/credit/appeals/{appeal_id}/decision", headers=HOUSING, json={"decision": "maybe"}
    )
    assert bad.status == 400
    _, decided = await client.post(
        f"/api/v1/credit/appeals/{appeal_id}/decision",
        headers=HOUSING,
        json={"decision": "uphold", "note": "整改到位"},
    )
    assert decided.json["status"] == "upheld"
    _, after = await client.get("/api/v1/credit/me", headers=ENTERPRISE)
    assert after.json["score"] == 100 and after.json["records"][0]["state"] == "revoked"
    _, trail = await client.get(f"/api/v1/credit/records/{record_id}/audit", headers=HOUSING)
    assert [row["action"] for row in trail.json["items"]][-1] == "revoke_record"


async def test_import_review_and_export(client: Any) -> None:
    sheet = (
        "subject_kind,subject_id,subject_name,record_type,effective_on,source_ref,project_code\n"
        f"enterprise,{OTHER},温岭市导入建设有限公司,award_municipal,2026-01-10,台建奖〔2026〕1号,\n"
        "enterprise,BAD,坏公司,award_municipal,2026-01-10,台建奖〔2026〕2号,\n"
    ).encode()
    _, imported = await client.post(
        "/api/v1/credit/records/import", headers=HOUSING, files={"file": ("campaign.csv", sheet, "text/csv")}
    )
    assert imported.status == 200, imported.body
    assert len(imported.json["created"]) == 1 and imported.json["rejected"][0]["row"] == 3
    _, pending = await client.get("/api/v1/credit/records", headers=HOUSING, params={"status": "pending"})
    assert pending.json["total"] == 1
    record_id = pending.json["items"][0]["id"]
    _, reviewed = await client.post(
        f"/api/v1/credit/records/{record_id}/review", headers=HOUSING, json={"decision": "approve"}
    )
    assert reviewed.json["status"] == "effective"

    _, csv_export = await client.get("/api/v1/credit/export", headers=PLANNING, params={"format": "csv"})
    assert csv_export.status == 200 and csv_export.headers["content-type"].startswith("text/csv")
    assert f"{OTHER},温岭市导入建设有限公司,103,B,是" in csv_export.body.decode("utf-8-sig")
    _, xlsx_export = await client.get(
        "/api/v1/credit/export", headers=HOUSING, params={"format": "xlsx", "as_of": "2026-01-01"}
    )
    sheet_back = load_workbook(io.BytesIO(xlsx_export.body)).active
    assert sheet_back is not None
    assert [c.value for c in sheet_back[2]][2:4] == [100, "B"]  # before the award counted


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/credit/public", {"q": "x"}),
        ("/api/v1/credit/public", {"q": "温岭", "as_of": "2026-02-30"}),
        ("/api/v1/credit/export", {"format": "pdf"}),
        ("/api/v1/credit/records", {"status": "nope"}),
    ],
)
async def test_bad_input_is_a_400(client: Any, path: str, params: dict[str, str]) -> None:
    _, response = await client.get(path, headers=HOUSING, params=params)
    assert response.status == 400
    assert response.json["code"] == "invalid_parameter"


async def test_site_manager_reads_the_person_file_bound_to_the_account(client: Any) -> None:
    _, bad = await client.put(
        "/api/v1/credit/subjects/person/abc/holder", headers=HOUSING, json={"account_id": "31"}
    )
    assert bad.status == 400
    _, bound = await client.put(
        "/api/v1/credit/subjects/person/1207/holder",
        headers=HOUSING,
        json={"account_id": "31", "name": "王建国"},
    )
    assert bound.status == 200
    body = record_body(
        subject_kind="person", subject_id="1207", record_type="safety_violation", source_ref="告警 77"
    )
    _, created = await client.post("/api/v1/credit/records", headers=HOUSING, json=body)
    assert created.status == 201, created.body
    _, mine = await client.get("/api/v1/credit/me", headers=SITE_MANAGER)
    assert mine.status == 200
    assert mine.json["subject"] == {"kind": "person", "id": "1207", "name": "王建国"}
    assert mine.json["score"] == 97
    _, public = await client.get("/api/v1/credit/public", params={"q": "王建国"})
    assert public.json["items"] == []  # people never appear in the public lookup


async def test_an_enterprise_without_records_sees_the_base_score(client: Any) -> None:
    _, mine = await client.get("/api/v1/credit/me", headers=OTHER_ENTERPRISE, params={"as_of": "2026-06-30"})
    assert mine.status == 200
    assert (mine.json["score"], mine.json["grade"], mine.json["records"]) == (100, "B", [])
    _, award = await client.post(
        "/api/v1/credit/records",
        headers=HOUSING,
        json=record_body(subject_id=OTHER, record_type="award_county"),
    )
    _, appeal = await client.post(
        f"/api/v1/credit/records/{award.json['record_id']}/appeals",
        headers=OTHER_ENTERPRISE,
        json={"reason": "加分也想申诉"},
    )
    assert appeal.status == 400 and appeal.json["code"] == "appeal_not_allowed"
