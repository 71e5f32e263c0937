"""Pure registry-import rules: headers, cells, duplicates and references, each named by row and column."""

from __future__ import annotations

from domain.projects.registry_rules import (
    SHEET_BY_KIND,
    SheetKind,
    export_rows,
    parse_sheet,
    reference_problems,
)
from tests.city_file import city_sheets


def sentences(kind: SheetKind, rows: list[list[str]]) -> list[str]:
    return [p.sentence() for p in parse_sheet(SHEET_BY_KIND[kind], rows).problems]


def test_missing_required_and_unknown_columns_are_named_in_row_one() -> None:
    header = ["工地编号", "工地名称", "纬度", "经度", "备注"]
    found = sentences(SheetKind.SITES, [header, ["S1", "一号工地", "28.3", "121.3", "x"]])
    assert "「工地」第 1 行「项目编号」：缺少必填列" in found
    assert "「工地」第 1 行「备注」：不认识的列" in found


def test_a_swapped_latitude_and_longitude_is_caught() -> None:
    rows = city_sheets(sites=1)[SheetKind.SITES]
    rows[1][3], rows[1][4] = rows[1][4], rows[1][3]
    found = sentences(SheetKind.SITES, rows)
    assert any("「纬度」" in s and "应在 18 到 54 之间" in s for s in found)


def test_duplicate_keys_point_at_the_first_occurrence() -> None:
    rows = city_sheets(sites=2)[SheetKind.SITES]
    rows[2][0] = rows[1][0]
    assert sentences(SheetKind.SITES, rows) == ["「工地」第 3 行「工地编号」：与第 2 行重复"]


def test_a_broken_key_is_reported_once_and_its_referrers_too() -> None:
    sheets = city_sheets(sites=2)
    sheets[SheetKind.ENTERPRISES][1][0] = "bad"
    parsed = {kind: parse_sheet(SHEET_BY_KIND[kind], rows) for kind, rows in sheets.items()}
    assert [p.sentence() for p in parsed[SheetKind.ENTERPRISES].problems] == [
        "「企业」第 2 行「统一社会信用代码」：“bad” 统一社会信用代码校验失败"
    ]
    missing = reference_problems(parsed, {})
    assert missing and all(p.sheet in {"项目", "人员"} and "不存在" in p.message for p in missing)


def test_export_writes_labels_an_importer_would_type() -> None:
    spec = SHEET_BY_KIND[SheetKind.DEVICES]
    parsed = parse_sheet(spec, city_sheets(sites=1)[SheetKind.DEVICES])
    rows = export_rows(spec, parsed.records)
    assert rows[0] == [c.header for c in spec.columns]
    assert rows[1][2] in {"扬尘", "噪声", "塔吊"} and rows[1][5] == "是"
