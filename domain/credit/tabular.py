"""CSV and XLSX in and out: inspection-campaign imports (validated row by row) and the bidding export.

Pure functions over bytes (openpyxl works in memory); the services run the XLSX ones in a thread
because openpyxl is synchronous and CPU-bound.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook, load_workbook

from domain.credit.catalogue import Catalogue
from domain.credit.rules import SubjectKind
from domain.errors import ValidationFailed
from domain.projects.rules import is_valid_uscc, normalise_project_code
from domain.tabular import cell_text as _text

MAX_IMPORT_ROWS = 5_000
MAX_TEXT = 120

# Column aliases: campaign sheets come from inspectors with Chinese headers.
HEADER_ALIASES: Mapping[str, str] = {
    "subject_kind": "subject_kind",
    "主体类型": "subject_kind",
    "subject_id": "subject_id",
    "主体编号": "subject_id",
    "统一社会信用代码": "subject_id",
    "subject_name": "subject_name",
    "主体名称": "subject_name",
    "record_type": "record_type",
    "记录类型": "record_type",
    "effective_on": "effective_on",
    "生效日期": "effective_on",
    "source_ref": "source_ref",
    "文书编号": "source_ref",
    "project_code": "project_code",
    "项目编号": "project_code",
    "penalty_months": "penalty_months",
    "处罚期限(月)": "penalty_months",
    "summary": "summary",
    "说明": "summary",
}
KIND_ALIASES: Mapping[str, SubjectKind] = {
    "enterprise": SubjectKind.ENTERPRISE,
    "企业": SubjectKind.ENTERPRISE,
    "person": SubjectKind.PERSON,
    "人员": SubjectKind.PERSON,
    "project": SubjectKind.PROJECT,
    "项目": SubjectKind.PROJECT,
}
REQUIRED = ("subject_kind", "subject_id", "record_type", "effective_on", "source_ref")


@dataclass(frozen=True, slots=True)
class RecordDraft:
    """A validated record to create (from a form, an import row or an event)."""

    subject_kind: SubjectKind
    subject_id: str
    record_type: str
    effective_on: dt.date
    source_ref: str
    subject_name: str = ""
    project_code: str = ""
    penalty_months: int = 0
    summary: str = ""


@dataclass(frozen=True, slots=True)
class Rejection:
    row: int  # 1-based line in the sheet, the header being row 1
    problems: tuple[str, ...]


def rows_from_xlsx(data: bytes) -> list[list[str]]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:
        raise ValidationFailed("the XLSX file cannot be read", code="unreadable_file") from error
    try:
        sheet = workbook.worksheets[0]
        rows: list[list[str]] = []
        for values in sheet.iter_rows(values_only=True):
            row = [_text(value) for value in values]
            if any(row):
                rows.append(row)
            if len(rows) > MAX_IMPORT_ROWS + 1:
                break
        return rows
    finally:
        workbook.close()


def subject_problems(kind: SubjectKind | None, raw_kind: str, subject_id: str) -> list[str]:
    if kind is None:
        return [f"subject_kind {raw_kind!r} is not enterprise/person/project"]
    if kind is SubjectKind.ENTERPRISE and not is_valid_uscc(subject_id):
        return [f"{subject_id!r} is not a valid unified social credit code"]
    if kind is SubjectKind.PERSON and not (subject_id.isdigit() and len(subject_id) <= 12):
        return ["a person is referenced by numeric person id"]
    return []


def _project_code(raw: str, problems: list[str]) -> str:
    if not raw:
        return ""
    try:
        return normalise_project_code(raw)
    except ValidationFailed as error:
        problems.append(error.message)
        return raw


def draft_from_fields(cells: Mapping[str, str], catalogue: Catalogue) -> RecordDraft | list[str]:
    """One record from named text fields (an import row or a form): the draft, or every problem."""
    problems = [f"{name} is required" for name in REQUIRED if not cells.get(name)]
    if problems:
        return problems
    kind = KIND_ALIASES.get(cells["subject_kind"].lower())
    subject_id = cells["subject_id"].upper() if kind is SubjectKind.ENTERPRISE else cells["subject_id"]
    problems += subject_problems(kind, cells["subject_kind"], subject_id)
    if cells["record_type"] not in catalogue.record_types:
        problems.append(f"unknown record_type {cells['record_type']!r}")
    try:
        effective_on = dt.date.fromisoformat(cells["effective_on"][:10])
    except ValueError:
        problems.append(f"effective_on {cells['effective_on']!r} is not a YYYY-MM-DD date")
        effective_on = dt.date.min
    project_code = _project_code(
        subject_id if kind is SubjectKind.PROJECT else cells.get("project_code", ""), problems
    )
    penalty_text = cells.get("penalty_months", "") or "0"
    if not penalty_text.isdigit() or int(penalty_text) > 120:
        problems.append("penalty_months must be a whole number of months up to 120")
    for name in ("source_ref", "subject_name"):
        if len(cells.get(name, "")) > MAX_TEXT:
            problems.append(f"{name} is limited to {MAX_TEXT} characters")
    if problems or kind is None:
        return problems
    return RecordDraft(
        subject_kind=kind,
        subject_id=project_code if kind is SubjectKind.PROJECT else subject_id,
        record_type=cells["record_type"],
        effective_on=effective_on,
        source_ref=cells["source_ref"],
        subject_name=cells.get("subject_name", ""),
        project_code=project_code,
        penalty_months=int(penalty_text),
        summary=cells.get("summary", "")[:2000],
    )


def drafts_from_rows(
    rows: Sequence[Sequence[str]], catalogue: Catalogue
) -> tuple[list[tuple[int, RecordDraft]], list[Rejection]]:
    """Validate every row; a bad row is reported with all its problems, the good ones go ahead."""
    if not rows:
        raise ValidationFailed("the file has no rows", code="empty_import")
    if len(rows) > MAX_IMPORT_ROWS + 1:
        raise ValidationFailed(f"at most {MAX_IMPORT_ROWS} rows per import", code="import_too_large")
    header = [HEADER_ALIASES.get(cell.strip(), "") for cell in rows[0]]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ValidationFailed(f"missing columns: {', '.join(missing)}", code="import_missing_columns")
    drafts: list[tuple[int, RecordDraft]] = []
    rejections: list[Rejection] = []
    for line, row in enumerate(rows[1:], start=2):
        cells = {name: str(value).strip() for name, value in zip(header, row, strict=False) if name}
        result = draft_from_fields(cells, catalogue)
        if isinstance(result, RecordDraft):
            drafts.append((line, result))
        else:
            rejections.append(Rejection(line, tuple(result)))
    return drafts, rejections


EXPORT_HEADER = ("统一社会信用代码", "企业名称", "信用分", "信用等级", "投标资格", "评价日期")


def export_csv(rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_HEADER)
    writer.writerows(rows)
    # BOM so Excel opens the Chinese headers as UTF-8.
    return buffer.getvalue().encode("utf-8-sig")


def export_xlsx(rows: Iterable[Sequence[Any]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("信用等级")
    sheet.append(list(EXPORT_HEADER))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
