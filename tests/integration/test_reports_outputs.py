"""The report's files: XLSX sheets and totals, PNG size and CJK font, HTML with local ECharts, CLI, API."""

from __future__ import annotations

import datetime as dt
import io
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from matplotlib import font_manager
from openpyxl import load_workbook
from PIL import Image

from config.app import create_app
from config.container import close_database, init_tortoise
from domain.accounts.rules import Principal, Role, issue_token
from domain.reports.periods import parse_period
from domain.reports.services import build_report, deployed_report_env
from miniprogram_api.report_cli import run_report
from miniprogram_api.report_render import (
    ECHARTS_FILE,
    PNG_DPI,
    PNG_SIZE_IN,
    cjk_font,
    html_report,
    png_charts,
    xlsx_bytes,
)
from tests.conftest import make_settings
from tests.integration.reports_seed import at, seed_all

EXPECTED_SHEETS = {
    "封面",
    "对比",
    "项目",
    "审批-部门",
    "审批-阶段",
    "投诉",
    "投诉-时效",
    "告警",
    "告警-屡犯",
    "信用",
    "应急",
    "公开数据",
}


@pytest.fixture
async def report(database: str) -> dict[str, Any]:
    await seed_all()
    return await build_report(parse_period("2026-10"), deployed_report_env(), now=at(11, 5))


def test_cjk_font_really_resolves() -> None:
    family, path = cjk_font()
    assert "CJK" in family and "NotoSansCJK" in Path(path).name
    # The default sans-serif would not have these glyphs; ours must, so findfont is not a silent fallback.
    resolved = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    assert Path(resolved).name.startswith("NotoSansCJK")


async def test_xlsx_has_a_sheet_per_section_with_totals(report: dict[str, Any]) -> None:
    book = load_workbook(io.BytesIO(xlsx_bytes(report)))
    assert set(book.sheetnames) == EXPECTED_SHEETS
    complaints = {(row[0], row[1]): row[2] for row in book["投诉"].iter_rows(min_row=3, values_only=True)}
    assert complaints[("合计", "投诉总数")] == 5
    assert sum(v for (group, _), v in complaints.items() if group == "类型") == 5
    projects = {(row[0], row[1]): row[2] for row in book["项目"].iter_rows(min_row=3, values_only=True)}
    assert projects[("合计", "项目总数")] == 4 and projects[("阶段", "在建")] == 2
    towns = list(book["公开数据"].iter_rows(min_row=3, values_only=True))
    assert {row[0] for row in towns} == {"城东街道", "泽国镇"}


async def test_png_charts_render_at_size_with_chinese_glyphs(report: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        # matplotlib warns "Glyph ... missing from font(s)" when it draws tofu: make that a failure.
        warnings.simplefilter("error")
        images = png_charts(report)
    assert len(images) == 7
    for data in images.values():
        image = Image.open(io.BytesIO(data))
        assert image.format == "PNG"
        assert image.size == (int(PNG_SIZE_IN[0] * PNG_DPI), int(PNG_SIZE_IN[1] * PNG_DPI))


async def test_html_uses_local_echarts(report: dict[str, Any]) -> None:
    page = html_report(report, js_host="/static/")
    assert '<script type="text/javascript" src="/static/echarts.min.js"></script>' in page
    assert "http://" not in page.split("<body")[0] and "https://" not in page.split("<body")[0]
    # pyecharts writes the chart options as ASCII-escaped JSON.
    assert "投诉类型分布" in page or json.dumps("投诉类型分布")[1:-1] in page
    assert "温岭市建设工程月报" in page
    assert ECHARTS_FILE.stat().st_size < 2 * 1024 * 1024


async def test_an_empty_period_renders_everything(database: str, tmp_path: Path) -> None:
    report = await build_report(parse_period("2026-Q4"), deployed_report_env(), now=at(11, 5))
    assert report["sections"]["complaints"]["on_time_rate"] is None  # nothing to divide: not 0 %
    load_workbook(io.BytesIO(xlsx_bytes(report)))
    assert len(png_charts(report)) == 7
    assert "echarts.min.js" in html_report(report, js_host="./")


async def test_cli_writes_every_file(db_url: str, tmp_path: Path) -> None:
    await init_tortoise(db_url)
    await seed_all()
    await close_database()
    written = await run_report("2026-10", tmp_path, database_url=db_url)
    assert (tmp_path / "echarts.min.js").exists() and len(list((tmp_path / "charts").glob("*.png"))) == 7
    data = json.loads((tmp_path / "report-2026-10.json").read_text(encoding="utf-8"))
    assert data["sections"]["complaints"]["total"] == 5
    assert 'src="./echarts.min.js"' in (tmp_path / "report-2026-10.html").read_text(encoding="utf-8")
    assert len(written) == 10


def _token(role: Role) -> dict[str, str]:
    principal = Principal(subject="7", role=role, department="housing")
    secret = make_settings(Path("/tmp")).secret_key.get_secret_value().encode()
    return {"Authorization": f"Bearer {issue_token(principal, secret=secret, now=dt.datetime.now(dt.UTC))}"}


async def test_api(db_url: str, tmp_path: Path) -> None:
    await init_tortoise(db_url)
    await seed_all()
    await close_database()
    client = create_app(make_settings(tmp_path, database_url=db_url)).asgi_client
    staff = _token(Role.STAFF)
    _, response = await client.get("/api/v1/reports/2026-10", headers=staff)
    assert response.status == 200 and response.json["sections"]["complaints"]["total"] == 5
    _, response = await client.get("/api/v1/reports/2026-10", headers=_token(Role.ENTERPRISE))
    assert response.status == 403
    _, response = await client.get("/api/v1/reports/2026-10")
    assert response.status == 401
    _, response = await client.get("/api/v1/reports/2026-13", headers=staff)
    assert response.status == 400 and response.json["code"] == "invalid_period"
    _, response = await client.get("/api/v1/reports/2026-Q4/sections/alarms", headers=staff)
    assert response.status == 200 and response.json["data"]["total"] == 4
    _, response = await client.get("/api/v1/reports/2026-10/sections/nope", headers=staff)
    assert response.status == 404
    _, response = await client.get("/api/v1/reports/2026-10/charts/credit_grades.png", headers=staff)
    assert response.status == 200 and response.body[:4] == b"\x89PNG"
    _, response = await client.get("/api/v1/reports/2026-10?format=xlsx", headers=staff)
    assert response.status == 200 and response.body[:2] == b"PK"
    _, response = await client.get("/api/v1/reports/2026?format=html", headers=staff)
    assert response.status == 200 and "/static/echarts.min.js" in response.text
    _, response = await client.get("/static/echarts.min.js")
    assert response.status == 200 and len(response.body) == ECHARTS_FILE.stat().st_size
    _, response = await client.get("/api/v1/public/transparency/2026-10")
    assert response.status == 200 and "13800000000" not in response.text
    assert {row["town"] for row in response.json["towns"]} == {"城东街道", "泽国镇"}
