"""Spreadsheets in and out, as pure functions over bytes: CSV (UTF-8 or the GBK that Excel on Chinese
Windows writes) and XLSX workbooks (openpyxl, in memory). Callers run the XLSX ones in a thread,
since openpyxl is synchronous and CPU-bound."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook, load_workbook

from domain.errors import ValidationFailed


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def rows_from_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # Excel on Chinese Windows saves CSV in GBK
        except UnicodeDecodeError as error:
            raise ValidationFailed("the CSV is neither UTF-8 nor GBK", code="unreadable_file") from error
    try:
        return [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise ValidationFailed(f"the CSV is malformed: {error}", code="unreadable_file") from error


def sheets_from_xlsx(data: bytes, *, max_rows: int) -> dict[str, list[list[str]]]:
    """Every sheet by title, blank rows dropped; a sheet longer than ``max_rows`` is refused."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file; all mean the same here
        raise ValidationFailed("the XLSX file cannot be read", code="unreadable_file") from error
    try:
        sheets: dict[str, list[list[str]]] = {}
        for sheet in workbook.worksheets:
            rows = sheets[sheet.title] = []
            for values in sheet.iter_rows(values_only=True):
                row = [cell_text(value) for value in values]
                if any(row):
                    rows.append(row)
                if len(rows) > max_rows + 1:
                    raise ValidationFailed(
                        f"sheet {sheet.title} has more than {max_rows} rows", code="file_too_large"
                    )
        return sheets
    finally:
        workbook.close()


def csv_from_rows(rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")  # BOM: Excel opens the Chinese headers as UTF-8


def xlsx_from_sheets(sheets: Mapping[str, Sequence[Sequence[Any]]]) -> bytes:
    workbook = Workbook(write_only=True)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
