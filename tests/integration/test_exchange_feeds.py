"""Inbound feeds over HTTP: signatures, timestamps, schemas, duplicate batches, partial acceptance,
CSV/XLSX uploads, the batch audit, and penalties becoming credit records."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from config.app import create_app
from config.container import close_database, init_tortoise
from domain.accounts.rules import Principal, Role, issue_token
from domain.credit.models import CreditRecord
from domain.exchange.models import FeedRecord
from domain.exchange.models import Partner as PartnerKey
from domain.exchange.rules import sign
from domain.exchange.services import issue_partner
from domain.projects.rules import uscc_check_char
from tests.conftest import make_settings

COMPANY = "91331081MA0000201" + uscc_check_char("91331081MA0000201")
PENALTIES = "/api/v1/exchange/feeds/environmental_penalties"


def penalty(number: int, **overrides: Any) -> dict[str, Any]:
    return {
        "decision_no": f"台环罚〔2026〕{number}号",
        "enterprise_uscc": COMPANY,
        "enterprise_name": "温岭丙建设有限公司",
        "project_code": "WL-2026-0031",
        "violation": "dust",
        "amount_yuan": 20000,
        "decided_on": "2026-10-08",
    } | overrides


def staff(department: str, role: Role = Role.STAFF) -> dict[str, str]:
    principal = Principal(subject="9", role=role, department=department)
    secret = make_settings(Path("/tmp")).secret_key.get_secret_value().encode()
    return {"Authorization": f"Bearer {issue_token(principal, secret=secret, now=dt.datetime.now(dt.UTC))}"}


class Partner:
    def __init__(self, client: Any, key_id: str, secret: str) -> None:
        self.client, self.key_id, self.secret = client, key_id, secret

    async def post(
        self,
        path: str,
        records: Any,
        *,
        batch: str,
        timestamp: int | None = None,
        secret: str | None = None,
        raw: bytes | None = None,
    ) -> Any:
        body = raw if raw is not None else json.dumps({"records": records}, ensure_ascii=False).encode()
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        headers = {
            "X-Wl-Key": self.key_id,
            "X-Wl-Timestamp": stamp,
            "X-Wl-Batch-Id": batch,
            "X-Wl-Signature": sign(secret or self.secret, stamp, body),
            "Content-Type": "application/json",
        }
        _, response = await self.client.post(path, content=body, headers=headers)
        return response


@pytest.fixture
async def env(db_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    await init_tortoise(db_url)
    settings = make_settings(tmp_path, database_url=db_url)
    key = settings.secret_key.get_secret_value().encode()
    environment = await issue_partner(
        "environment", actor="test", now=dt.datetime.now(dt.UTC), master_key=key
    )
    transport = await issue_partner("transport", actor="test", now=dt.datetime.now(dt.UTC), master_key=key)
    await close_database()
    client = create_app(settings).asgi_client
    yield Partner(client, *environment), Partner(client, *transport), client, db_url
    await close_database()


async def reopen(url: str) -> None:
    """The app closes the database when its request ends: reopen it to check the tables directly."""
    await init_tortoise(url)


async def test_partial_batch_accepts_good_rows_and_itemises_bad_ones(env: Any) -> None:
    partner, _, client, url = env
    rows = [
        penalty(1),
        penalty(2, enterprise_uscc="123"),
        penalty(3, violation="smoke", decided_on="2026-13-01"),
        penalty(4, extra="x"),
        penalty(5, violation="other"),
    ]
    response = await partner.post(PENALTIES, rows, batch="b-1")
    assert response.status == 201, response.text
    report = response.json
    assert (report["total"], report["accepted"], report["rejected"], report["credit_records"]) == (5, 2, 3, 1)
    by_row = {r["row"]: r["problems"] for r in report["rejections"]}
    assert set(by_row) == {2, 3, 4}
    assert any("enterprise_uscc" in p for p in by_row[2])
    assert len(by_row[3]) == 2 and any("unknown field" in p for p in by_row[4])
    await reopen(url)
    records = await CreditRecord.filter(subject_id=COMPANY).values_list(
        "record_type", "points", "status", "source_ref"
    )
    assert records == [("dust_penalty", -5, "effective", "environmental_penalties:台环罚〔2026〕1号")]
    _, audit = await client.get("/api/v1/exchange/batches", headers=staff("environment"))
    assert audit.json["items"][0]["rejected"] == 3 and audit.json["items"][0]["channel"] == "api"


async def test_duplicate_batch_and_idempotent_upsert(env: Any) -> None:
    partner, _, _, url = env
    first = await partner.post(PENALTIES, [penalty(1)], batch="b-2")
    again = await partner.post(PENALTIES, [penalty(1)], batch="b-2")
    assert first.status == 201 and again.status == 200 and again.json["duplicate"] is True
    assert again.json["batch_id"] == first.json["batch_id"]
    reused = await partner.post(PENALTIES, [penalty(2)], batch="b-2")
    assert reused.status == 409 and reused.json["code"] == "batch_id_reused"
    # A new batch with the same record: unchanged; a corrected amount: updated; still one credit record.
    same = await partner.post(PENALTIES, [penalty(1)], batch="b-3")
    assert same.json["unchanged"] == 1 and same.json["credit_records"] == 0
    corrected = await partner.post(PENALTIES, [penalty(1, amount_yuan=30000)], batch="b-4")
    assert corrected.json["updated"] == 1
    await reopen(url)
    assert await FeedRecord.filter(feed="environmental_penalties").count() == 1
    assert await CreditRecord.filter(subject_id=COMPANY).count() == 1
    stored = await FeedRecord.get(feed="environmental_penalties")
    assert stored.data["amount_yuan"] == 30000


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"secret": "wrong"}, 401, "bad_signature"),
        ({"timestamp_offset_s": -301}, 401, "stale_timestamp"),
        ({"timestamp_offset_s": 400}, 401, "stale_timestamp"),
        ({"raw": b"not json"}, 400, "invalid_schema"),
        ({"raw": b'{"rows": []}'}, 400, "invalid_schema"),
        ({"raw": b'{"records": {"a": 1}}'}, 400, "invalid_schema"),
    ],
)
async def test_rejected_requests(env: Any, change: dict[str, Any], status: int, code: str) -> None:
    partner, _, _, url = env
    if "timestamp_offset_s" in change:
        # Computed now, not at collection: the suite may run long before this test does.
        change = {"timestamp": int(time.time()) + change["timestamp_offset_s"]}
    response = await partner.post(PENALTIES, [penalty(1)], batch="b-x", **change)
    assert response.status == status and response.json["code"] == code
    await reopen(url)
    assert await CreditRecord.all().count() == 0


async def test_unknown_key_and_wrong_department(env: Any) -> None:
    partner, transport, client, _ = env
    _, response = await client.post(PENALTIES, content=b'{"records": []}', headers={"X-Wl-Key": "pk_nobody"})
    assert response.status == 401 and response.json["code"] == "unknown_api_key"
    response = await transport.post(PENALTIES, [penalty(1)], batch="t-1")
    assert response.status == 403 and response.json["code"] == "feed_not_allowed"
    response = await partner.post("/api/v1/exchange/feeds/nope", [penalty(1)], batch="n-1")
    assert response.status == 404


def _xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def test_csv_and_xlsx_uploads(env: Any) -> None:
    _, _, client, url = env
    header = list(penalty(0))
    csv_body = (
        ",".join(header)
        + "\n"
        + ",".join(str(v) for v in penalty(7).values())
        + "\n"
        + ",".join(str(v) for v in penalty(8, decided_on="yesterday").values())
        + "\n"
    )
    _, response = await client.post(
        "/api/v1/exchange/feeds/environmental_penalties/upload",
        headers=staff("environment"),
        files={"file": ("p.csv", csv_body.encode("utf-8"), "text/csv")},
    )
    assert response.status == 201, response.text
    assert (response.json["channel"], response.json["accepted"], response.json["rejected"]) == ("csv", 1, 1)
    workbook = _xlsx([header, [*penalty(9, decided_on=dt.date(2026, 10, 9)).values()]])
    _, response = await client.post(
        "/api/v1/exchange/feeds/environmental_penalties/upload",
        headers=staff("environment"),
        files={"file": ("p.xlsx", workbook, "application/octet-stream")},
    )
    assert response.status == 201 and response.json["channel"] == "xlsx" and response.json["accepted"] == 1
    _, response = await client.post(
        "/api/v1/exchange/feeds/environmental_penalties/upload",
        headers=staff("environment"),
        files={"file": ("p.xlsx", workbook, "application/octet-stream")},
    )
    assert response.status == 200 and response.json["duplicate"] is True
    _, response = await client.post(
        "/api/v1/exchange/feeds/environmental_penalties/upload",
        headers=staff("housing"),
        files={"file": ("p.xlsx", workbook, "application/octet-stream")},
    )
    assert response.status == 403
    await reopen(url)
    assert await CreditRecord.filter(subject_id=COMPANY).count() == 2


async def test_admin_issues_keys(env: Any, tmp_path: Path) -> None:
    _, _, client, url = env
    _, response = await client.post(
        "/api/v1/exchange/partners", headers=staff("", Role.ADMIN), json={"department": "police"}
    )
    assert (
        response.status == 201
        and response.json["key_id"].startswith("pk_")
        and len(response.json["secret"]) >= 40
    )
    police = Partner(client, response.json["key_id"], response.json["secret"])
    signed_in = await police.post(PENALTIES, [penalty(1)], batch="p-1")
    assert signed_in.status == 403 and signed_in.json["code"] == "feed_not_allowed", "authenticated"
    # The secret is derived from SECRET_KEY, not stored: another key, or the database alone, signs nothing.
    other_server = create_app(make_settings(tmp_path, database_url=url, secret_key="x" * 40))
    stranger = Partner(other_server.asgi_client, police.key_id, police.secret)
    refused = await stranger.post(PENALTIES, [penalty(1)], batch="p-2")
    assert refused.status == 401 and refused.json["code"] == "bad_signature"
    await reopen(url)
    stored = await PartnerKey.get(key_id=police.key_id)
    assert police.secret not in stored.secret
    _, response = await client.post(
        "/api/v1/exchange/partners", headers=staff("housing"), json={"department": "police"}
    )
    assert response.status == 403
    _, response = await client.post(
        "/api/v1/exchange/partners", headers=staff("", Role.ADMIN), json={"department": "x"}
    )
    assert response.status == 400


async def test_bad_uploads_and_openapi(env: Any) -> None:
    _, _, client, _ = env
    upload = "/api/v1/exchange/feeds/environmental_penalties/upload"
    for data in (b"PK\x03\x04 not really a workbook", b"decision_no\n", b"\xff\xfe\x00garbage\x81"):
        _, response = await client.post(
            upload, headers=staff("environment"), files={"file": ("f", data, "text/csv")}
        )
        assert response.status == 400, (data, response.text)
    _, response = await client.post(upload, headers=staff("environment"))
    assert response.status == 400 and response.json["code"] == "missing_file"
    _, response = await client.get("/docs/openapi.json")
    paths = response.json["paths"]
    assert "/api/v1/exchange/feeds/{feed}" in paths and "/api/v1/reports/{period}" in paths
    assert "/static/echarts.min.js" not in paths
    _, response = await client.get("/api/v1/exchange/geo/projects", headers=staff("housing"))
    assert response.status == 200 and response.json["type"] == "FeatureCollection"
    for layer in ("cameras", "emergency_resources"):  # the console map's extra layers, also for GIS
        _, response = await client.get(f"/api/v1/exchange/geo/{layer}", headers=staff("housing"))
        assert response.status == 200 and response.json["type"] == "FeatureCollection", layer
    _, response = await client.get("/api/v1/exchange/feeds", headers=staff("housing"))
    assert len(response.json["feeds"]) == 5
