"""City files as bytes: one XLSX workbook with a sheet per kind (企业, 项目, 工地, 设备, 摄像头), or one
CSV for one kind. Sheets this registry does not know (a 说明 sheet with notes, say) are ignored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from domain.errors import ValidationFailed
from domain.projects.registry_rules import SHEET_BY_KIND, SHEET_BY_TITLE, SheetKind
from domain.tabular import csv_from_rows, rows_from_csv, sheets_from_xlsx, xlsx_from_sheets

MAX_ROWS_PER_SHEET = 20_000  # 10x Wenling's ~2,700 cameras
NOTES_TITLE = "说明"


def read_city_file(
    data: bytes, *, kind_of_file: str, sheet: SheetKind | None
) -> dict[SheetKind, list[list[str]]]:
    if kind_of_file == "zip":  # XLSX is a ZIP container
        workbook = sheets_from_xlsx(data, max_rows=MAX_ROWS_PER_SHEET)
        sheets = {
            SHEET_BY_TITLE[title].kind: rows for title, rows in workbook.items() if title in SHEET_BY_TITLE
        }
        if not sheets:
            expected = "、".join(SHEET_BY_TITLE)
            raise ValidationFailed(f"工作簿中没有可导入的工作表（应为：{expected}）", code="no_sheets")
        return sheets
    if sheet is None:
        raise ValidationFailed("a CSV file holds one sheet: say which with sheet=", code="sheet_required")
    rows = rows_from_csv(data)
    if len(rows) > MAX_ROWS_PER_SHEET + 1:
        raise ValidationFailed(f"more than {MAX_ROWS_PER_SHEET} rows", code="file_too_large")
    return {sheet: rows}


def notes_sheet() -> list[list[str]]:
    rows = [["工作表", "列", "必填", "说明"]]
    for spec in SHEET_BY_KIND.values():
        for column in spec.columns:
            key = "（唯一编号，重复导入会更新同一条记录）" if column.field == spec.key else ""
            rows.append([spec.title, column.header, "是" if column.required else "", key])
    return rows


def xlsx_city_file(sheets: Mapping[SheetKind, Sequence[Sequence[str]]], *, with_notes: bool = False) -> bytes:
    titled = {SHEET_BY_KIND[kind].title: rows for kind, rows in sheets.items()}
    if with_notes:
        titled[NOTES_TITLE] = notes_sheet()
    return xlsx_from_sheets(titled)


def csv_city_file(rows: Sequence[Sequence[str]]) -> bytes:
    return csv_from_rows(rows)
