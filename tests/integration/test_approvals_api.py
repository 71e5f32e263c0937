"""The approvals HTTP surface: enterprise flow, bad files, staff queue and decisions, authorization."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from config.app import create_app
from domain.accounts.rules import Principal, issue_token
from tests.conftest import make_settings
from tests.integration.approvals_helpers import (
    ENTERPRISE_A,
    ENTERPRISE_B,
    FIELDS,
    PERMIT_MATERIALS,
    PROJECT,
    make_pdf,
    staff,
)

SECRET = "approvals-test-secret-0123456789abcdef"
MAX_BYTES = 200_000
API = "/api/v1/approvals"


class Client:
    def __init__(self, asgi: Any) -> None:
        self.asgi = asgi

    async def call(self, method: str, path: str, who: Principal | None, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        if who is not None:
            token = issue_token(who, secret=SECRET.encode(), now=dt.datetime.now(dt.UTC))
            headers["authorization"] = f"Bearer {token}"
        _, response = await getattr(self.asgi, method)(API + path, headers=headers, **kwargs)
        return response


@pytest.fixture
async def client(db_url: str, tmp_path: Path) -> Client:
    settings = make_settings(tmp_path, database_url=db_url, secret_key=SECRET, media_max_bytes=MAX_BYTES)
    return Client(create_app(settings).asgi_client)


async def new_draft(client: Client, who: Principal = ENTERPRISE_A) -> str:
    response = await client.call(
        "post",
        "/applications",
        who,
        json={"project_code": PROJECT, "stage": "construction_permit", "fields": FIELDS},
    )
    assert response.status == 201, response.text
    return str(response.json["code"])


def files(*entries: tuple[str, str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [(key, (name, data, "application/pdf")) for key, name, data in entries]


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG header claiming 10^10 pixels: a decompression bomb if anyone decoded it."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1000))


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.pdf", b"\0" * (50 * 1024 * 1024))
    return buffer.getvalue()


async def test_catalogue_is_public(client: Client) -> None:
    response = await client.call("get", "/catalogue", None)
    assert response.status == 200
    stages = response.json["stages"]
    assert [s["name"] for s in stages] == ["立项用地规划许可", "工程建设许可", "施工许可", "竣工验收"]


async def test_enterprise_flow_to_approval(client: Client) -> None:
    code = await new_draft(client)
    assert code.startswith("SP") and len(code) == len("SP2026-0001")
    checklist = (await client.call("get", f"/applications/{code}/checklist", ENTERPRISE_A)).json
    assert set(checklist["missing"]) == set(PERMIT_MATERIALS)
    response = await client.call(
        "post",
        f"/applications/{code}/materials",
        ENTERPRISE_A,
        files=files(*[(key, f"{key}.pdf", make_pdf(key)) for key in PERMIT_MATERIALS]),
    )
    assert response.status == 201, response.text
    assert {m["key"] for m in response.json["materials"]} == set(PERMIT_MATERIALS)
    response = await client.call("post", f"/applications/{code}/submit", ENTERPRISE_A)
    assert response.status == 200, response.text
    body = response.json
    assert body["status"] == "under_review"
    assert {t["department"] for t in body["tasks"]} == {"housing", "fire"}
    assert all(t["due_at"] and t["sla"] in ("on_track", "due_soon") for t in body["tasks"])

    queue = (await client.call("get", "/review/tasks", staff("fire"))).json["items"]
    assert [(t["department"], t["application"]["code"]) for t in queue] == [("fire", code)]
    material = await client.call("get", f"/applications/{code}/materials/fire_design", staff("fire"))
    assert material.status == 200 and material.body.startswith(b"%PDF")
    for department in ("housing", "fire"):
        task_id = next(t["id"] for t in body["tasks"] if t["department"] == department)
        response = await client.call(
            "post",
            f"/review/tasks/{task_id}/decision",
            staff(department),
            json={"decision": "approve", "comment": "同意"},
        )
        assert response.status == 200, response.text
    final = (await client.call("get", f"/applications/{code}", ENTERPRISE_A)).json
    assert final["status"] == "approved"
    assert [e["action"] for e in final["timeline"]][:4] == [
        "created",
        "materials_uploaded",
        "submitted",
        "under_review",
    ]
    assert final["timeline"][-1]["action"] == "approved"


async def test_bad_files_get_an_itemised_4xx_and_nothing_is_saved(client: Client, tmp_path: Path) -> None:
    code = await new_draft(client)
    response = await client.call(
        "post",
        f"/applications/{code}/materials",
        ENTERPRISE_A,
        files=files(
            ("survey_report", "good.pdf", make_pdf("good")),
            ("business_license", "licence.pdf", b"MZ\x90\x00\x03" + b"\0" * 500),
            ("construction_contract", "contract.pdf", make_pdf("secret", password="pw")),
            ("supervision_contract", "empty.pdf", b""),
            ("construction_drawings", "huge.pdf", b"%PDF-1.7\n" + b"\0" * (MAX_BYTES + 1)),
            ("fire_design", "bomb.pdf", zip_bomb()),
        ),
    )
    assert response.status == 422, response.text
    body = response.json
    assert body["code"] == "files_rejected"
    problems = body["problems"]
    assert len(problems) == 5
    for key, problem in [
        ("business_license", "unsupported_type"),
        ("construction_contract", "encrypted_pdf"),
        ("supervision_contract", "empty_file"),
        ("construction_drawings", "file_too_large"),
        ("fire_design", "unsupported_type"),
    ]:
        assert any(p.startswith(key) and problem in p for p in problems), (key, problems)
    checklist = (await client.call("get", f"/applications/{code}/checklist", ENTERPRISE_A)).json
    assert "survey_report" in checklist["missing"]  # the good file of the batch was not kept either
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").rglob("*.pdf"))


async def test_submit_with_problems_is_422_with_all_of_them(client: Client) -> None:
    code = await new_draft(client)
    await client.call(
        "patch", f"/applications/{code}", ENTERPRISE_A, json={"fields": {"planned_end": "2026-01-01"}}
    )
    response = await client.call("post", f"/applications/{code}/submit", ENTERPRISE_A)
    assert response.status == 422
    problems = response.json["problems"]
    # Every missing material, plus both date problems (before the start, and already past).
    assert len(problems) == len(PERMIT_MATERIALS) + 2
    assert sum(p.startswith("planned_end") for p in problems) == 2


async def test_authorization(client: Client) -> None:
    code = await new_draft(client)
    assert (await client.call("get", f"/applications/{code}", ENTERPRISE_B)).status == 404
    assert (await client.call("get", f"/applications/{code}/checklist", ENTERPRISE_B)).status == 404
    assert (await client.call("get", f"/applications/{code}/materials/site_plan", ENTERPRISE_B)).status == 404
    assert (await client.call("post", f"/applications/{code}/submit", ENTERPRISE_B)).status == 404
    assert (await client.call("get", "/applications", ENTERPRISE_B)).json["items"] == []
    assert [a["code"] for a in (await client.call("get", "/applications", ENTERPRISE_A)).json["items"]] == [
        code
    ]
    assert (await client.call("get", f"/applications/{code}", staff("housing"))).status == 404  # no task yet
    assert (await client.call("post", "/applications", staff("housing"), json={})).status == 403
    assert (await client.call("get", "/review/tasks", ENTERPRISE_A)).status == 403
    assert (await client.call("get", "/review/tasks", None)).status == 401
    response = await client.call(
        "post", "/review/tasks/999/decision", staff("fire"), json={"decision": "approve"}
    )
    assert response.status == 404


@pytest.mark.parametrize(
    ("method", "path", "payload", "status"),
    [
        ("post", "/applications", {"project_code": "nope", "stage": "construction_permit"}, 400),
        ("post", "/applications", {"project_code": PROJECT, "stage": "moon_landing"}, 400),
        (
            "post",
            "/applications",
            {"project_code": PROJECT, "stage": "construction_permit", "fields": []},
            400,
        ),
        (
            "post",
            "/applications",
            {"project_code": PROJECT, "stage": "construction_permit", "fields": {"x": 1}},
            400,
        ),
    ],
)
async def test_bad_input_is_4xx(client: Client, method: str, path: str, payload: Any, status: int) -> None:
    response = await client.call(method, path, ENTERPRISE_A, json=payload)
    assert response.status == status, response.text
    assert response.json["code"]


async def test_hostile_identifiers_and_text_are_4xx_never_5xx(client: Client) -> None:
    code = await new_draft(client)
    nul_name = {
        "project_code": PROJECT,
        "stage": "construction_permit",
        "fields": {"project_name": "a\u0000b"},
    }
    assert (await client.call("post", "/applications", ENTERPRISE_A, json=nul_name)).status == 400
    assert (await client.call("get", "/applications/SP2026-0001%00", ENTERPRISE_A)).status == 404
    assert (await client.call("get", "/applications/robert'); DROP", ENTERPRISE_A)).status == 404
    assert (await client.call("get", f"/applications/{code}/materials/..%2Fetc", ENTERPRISE_A)).status == 404
    decision = {"decision": "approve"}
    assert (
        await client.call("post", f"/review/tasks/{2**40}/decision", staff("fire"), json=decision)
    ).status == 404
    bad_pause = {"reason": "专家\u0000论证"}
    assert (
        await client.call("post", f"/applications/{code}/pause", staff("fire"), json=bad_pause)
    ).status == 400
    assert (
        await client.call("get", "/statistics", staff("fire"), params={"since": "0001-01-01"})
    ).status == 400
    response = await client.call("get", "/statistics", staff("fire"))
    assert response.status == 200 and response.json == {"stages": [], "departments": []}
    nothing = await client.call("post", f"/applications/{code}/materials", ENTERPRISE_A, data={"x": "y"})
    assert nothing.status == 400 and nothing.json["code"] == "no_files"


async def test_image_bombs_and_broken_images_are_refused(client: Client) -> None:
    code = await new_draft(client)
    response = await client.call(
        "post",
        f"/applications/{code}/materials",
        ENTERPRISE_A,
        files=[
            ("safety_license", ("licence.png", png_bomb(), "image/png")),
            ("site_photos", ("site.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64, "image/jpeg")),
        ],
    )
    assert response.status == 422, response.text
    problems = response.json["problems"]
    assert any(p.startswith("safety_license") and "image_too_large" in p for p in problems), problems
    assert any(p.startswith("site_photos") and "corrupt_image" in p for p in problems), problems
