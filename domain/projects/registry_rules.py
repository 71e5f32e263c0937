"""Pure rules of the registry import: the sheets of a city file, their Chinese columns, how each cell
is parsed, and every problem found, by sheet, row and column, before anything is written.

A city file is one workbook with the sheets 企业, 项目, 工地, 设备 and 摄像头 (or one CSV per sheet).
Rows are identified by their natural key (统一社会信用代码, 项目编号, 工地编号, 设备编号/MN,
摄像头编号), so importing the same file twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from domain.errors import ValidationFailed
from domain.projects.rules import (
    PROJECT_KIND_LABELS,
    PROJECT_STAGE_LABELS,
    DeviceType,
    PersonRole,
    ProjectStatus,
    is_valid_uscc,
    normalise_project_code,
    parse_kind,
    parse_stage,
)

Parser = Callable[[str], Any]
Formatter = Callable[[Any], str]


class SheetKind(StrEnum):
    ENTERPRISES = "enterprises"
    PEOPLE = "people"
    PROJECTS = "projects"
    SITES = "sites"
    DEVICES = "devices"
    CAMERAS = "cameras"


class CellError(ValueError):
    """A cell's value is wrong; the message is the Chinese sentence shown to the importer."""


def _text(max_length: int) -> Parser:
    def parse(value: str) -> str:
        if len(value) > max_length:
            raise CellError(f"不能超过 {max_length} 个字符")
        return value

    return parse


def _number(low: float, high: float, *, integer: bool = False) -> Parser:
    def parse(value: str) -> float | int:
        try:
            number = float(value)
        except ValueError as error:
            raise CellError("应为数字") from error
        if not low <= number <= high:
            raise CellError(f"应在 {low:g} 到 {high:g} 之间")
        if integer:
            if not number.is_integer():
                raise CellError("应为整数")
            return int(number)
        return number

    return parse


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError as error:
        raise CellError("应为日期，如 2026-03-01") from error


_YES = {"是", "启用", "true", "1", "yes", "y"}
_NO = {"否", "停用", "false", "0", "no", "n"}


def _flag(value: str) -> bool:
    lowered = value.lower()
    if lowered in _YES:
        return True
    if lowered in _NO:
        return False
    raise CellError("应为 是 或 否")


def _uscc(value: str) -> str:
    code = value.upper()
    if not is_valid_uscc(code):
        raise CellError("统一社会信用代码校验失败")
    return code


def _project_code(value: str) -> str:
    try:
        return normalise_project_code(value)
    except ValidationFailed as error:
        raise CellError("项目编号应形如 WL-2026-0031") from error


_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


def _code(value: str) -> str:
    if not _CODE_RE.match(value):
        raise CellError("只能包含字母、数字、- _ .，且不超过 40 个字符")
    return value


def _certificate(value: str) -> str:
    """Certificate numbers carry a province character (浙133...): any printable text without spaces."""
    if len(value) > 40 or not value.isprintable() or any(ch.isspace() for ch in value):
        raise CellError("证书编号应为不含空格的 1 到 40 个字符")
    return value


def _choice(options: Mapping[str, Any], what: str) -> Parser:
    def parse(value: str) -> Any:
        if value in options:
            return options[value]
        raise CellError(f"不是有效的{what}，可选：{'、'.join(sorted(set(map(str, options))))}")

    return parse


def _kind(value: str) -> Any:
    try:
        return parse_kind(value)
    except ValidationFailed as error:
        raise CellError(f"不是有效的项目类型，可选：{'、'.join(PROJECT_KIND_LABELS.values())}") from error


def _stage(value: str) -> Any:
    try:
        return parse_stage(value)
    except ValidationFailed as error:
        raise CellError(f"不是有效的阶段，可选：{'、'.join(PROJECT_STAGE_LABELS.values())}") from error


_STREAM_RE = re.compile(r"^(rtsp|rtsps|http|https)://[^\s]{1,290}$")


def _stream_url(value: str) -> str:
    if not _STREAM_RE.match(value):
        raise CellError("视频流地址应以 rtsp:// 或 http(s):// 开头")
    return value


STATUS_LABELS = {
    ProjectStatus.ACTIVE: "在管",
    ProjectStatus.SUSPENDED: "停工",
    ProjectStatus.FINISHED: "已结束",
}
PERSON_ROLE_LABELS = {
    PersonRole.PROJECT_MANAGER: "项目经理",
    PersonRole.SAFETY_OFFICER: "安全员",
    PersonRole.CRANE_OPERATOR: "塔吊司机",
    PersonRole.SITE_MANAGER: "现场负责人",
}
DEVICE_TYPE_LABELS = {
    DeviceType.DUST: "扬尘",
    DeviceType.NOISE: "噪声",
    DeviceType.CRANE: "塔吊",
    DeviceType.GENERIC: "通用",
}


def _labelled(labels: Mapping[Any, str]) -> dict[str, Any]:
    return {**{label: key for key, label in labels.items()}, **{key.value: key for key in labels}}


def _label_of(labels: Mapping[Any, str]) -> Formatter:
    return lambda value: labels[value]


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    field: str
    parse: Parser
    required: bool = False
    default: Any = None
    format: Formatter = _plain


@dataclass(frozen=True, slots=True)
class Reference:
    """A column whose value must be the key of a row in another sheet (in the file or registered)."""

    field: str
    target: SheetKind


@dataclass(frozen=True, slots=True)
class SheetSpec:
    kind: SheetKind
    title: str
    key: str
    columns: tuple[Column, ...]
    references: tuple[Reference, ...] = ()

    def column(self, field_name: str) -> Column:
        return next(c for c in self.columns if c.field == field_name)


LAT = _number(18.0, 54.0)  # China's extent: a swapped lat/lng pair is caught here
LNG = _number(73.0, 136.0)

SHEETS: tuple[SheetSpec, ...] = (
    SheetSpec(
        SheetKind.ENTERPRISES,
        "企业",
        "uscc",
        (
            Column("统一社会信用代码", "uscc", _uscc, required=True),
            Column("企业名称", "name", _text(128), required=True),
            Column("法定代表人", "legal_representative", _text(32), default=""),
            Column("联系电话", "contact_phone", _text(32), default=""),
            Column("地址", "address", _text(200), default=""),
            Column("资质", "qualification", _text(64), default=""),
        ),
    ),
    SheetSpec(
        SheetKind.PEOPLE,
        "人员",
        "certificate_no",
        (
            Column("证书编号", "certificate_no", _certificate, required=True),
            Column("姓名", "name", _text(32), required=True),
            Column(
                "岗位",
                "role",
                _choice(_labelled(PERSON_ROLE_LABELS), "岗位"),
                required=True,
                format=_label_of(PERSON_ROLE_LABELS),
            ),
            Column("所属企业信用代码", "enterprise_uscc", _uscc, default=""),
            Column("联系电话", "phone", _text(32), default=""),
            Column("身份证号", "id_number", _text(18), default=""),
        ),
        (Reference("enterprise_uscc", SheetKind.ENTERPRISES),),
    ),
    SheetSpec(
        SheetKind.PROJECTS,
        "项目",
        "code",
        (
            Column("项目编号", "code", _project_code, required=True),
            Column("项目名称", "name", _text(128), required=True),
            Column("类型", "kind", _kind, required=True, format=_label_of(PROJECT_KIND_LABELS)),
            Column("阶段", "stage", _stage, required=True, format=_label_of(PROJECT_STAGE_LABELS)),
            Column(
                "状态",
                "status",
                _choice(_labelled(STATUS_LABELS), "状态"),
                default=ProjectStatus.ACTIVE,
                format=_label_of(STATUS_LABELS),
            ),
            Column("镇街", "town", _text(16), required=True),
            Column("道路", "road", _text(64), default=""),
            Column("地址", "address", _text(200), required=True),
            Column("纬度", "lat", LAT, required=True),
            Column("经度", "lng", LNG, required=True),
            Column("面积(平方米)", "area_m2", _number(0, 1e8), default=0.0),
            Column("总投资(万元)", "investment_wan", _number(0, 1e9), default=0.0),
            Column("计划开工", "planned_start", _date),
            Column("计划竣工", "planned_end", _date),
            Column("进度(%)", "progress_pct", _number(0, 100, integer=True), default=0),
            Column("建设单位信用代码", "developer_uscc", _uscc, default=""),
            Column("施工单位信用代码", "contractor_uscc", _uscc, default=""),
            Column("监理单位信用代码", "supervisor_uscc", _uscc, default=""),
            Column("项目经理证书编号", "project_manager_cert", _certificate, default=""),
            Column("安全员证书编号", "safety_officer_cert", _certificate, default=""),
        ),
        (
            Reference("developer_uscc", SheetKind.ENTERPRISES),
            Reference("contractor_uscc", SheetKind.ENTERPRISES),
            Reference("supervisor_uscc", SheetKind.ENTERPRISES),
            Reference("project_manager_cert", SheetKind.PEOPLE),
            Reference("safety_officer_cert", SheetKind.PEOPLE),
        ),
    ),
    SheetSpec(
        SheetKind.SITES,
        "工地",
        "code",
        (
            Column("工地编号", "code", _code, required=True),
            Column("项目编号", "project_code", _project_code, required=True),
            Column("工地名称", "name", _text(128), required=True),
            Column("纬度", "lat", LAT, required=True),
            Column("经度", "lng", LNG, required=True),
            Column("启用", "active", _flag, default=True),
        ),
        (Reference("project_code", SheetKind.PROJECTS),),
    ),
    SheetSpec(
        SheetKind.DEVICES,
        "设备",
        "code",
        (
            Column("设备编号(MN)", "code", _code, required=True),
            Column("工地编号", "site_code", _code, required=True),
            Column(
                "类型",
                "device_type",
                _choice(_labelled(DEVICE_TYPE_LABELS), "设备类型"),
                required=True,
                format=_label_of(DEVICE_TYPE_LABELS),
            ),
            Column("型号", "model", _text(64), default=""),
            Column("上报间隔(秒)", "interval_s", _number(10, 86_400, integer=True), default=60),
            Column("启用", "enabled", _flag, default=True),
        ),
        (Reference("site_code", SheetKind.SITES),),
    ),
    SheetSpec(
        SheetKind.CAMERAS,
        "摄像头",
        "code",
        (
            Column("摄像头编号", "code", _code, required=True),
            Column("工地编号", "site_code", _code, required=True),
            Column("名称", "name", _text(64), required=True),
            Column("视频流地址", "stream_url", _stream_url, default=""),
            Column("采样帧率", "sample_fps", _number(0.01, 30), default=1.0),
            Column("启用", "enabled", _flag, default=True),
        ),
        (Reference("site_code", SheetKind.SITES),),
    ),
)
SHEET_BY_KIND = {spec.kind: spec for spec in SHEETS}
SHEET_BY_TITLE = {spec.title: spec for spec in SHEETS}


@dataclass(frozen=True, slots=True)
class RowProblem:
    sheet: str
    row: int  # the spreadsheet's row number: the header is row 1
    column: str
    message: str

    def sentence(self) -> str:
        where = f"「{self.sheet}」第 {self.row} 行" + (f"「{self.column}」" if self.column else "")
        return f"{where}：{self.message}"


@dataclass
class ParsedSheet:
    spec: SheetSpec
    records: list[dict[str, Any]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


def _header_problems(spec: SheetSpec, header: Sequence[str]) -> list[RowProblem]:
    known = {c.header for c in spec.columns}
    problems = [
        RowProblem(spec.title, 1, column.header, "缺少必填列")
        for column in spec.columns
        if column.required and column.header not in header
    ]
    problems += [
        RowProblem(spec.title, 1, name, "不认识的列") for name in header if name and name not in known
    ]
    return problems


def _parse_row(spec: SheetSpec, cells: Mapping[str, str], row: int, out: ParsedSheet) -> None:
    record: dict[str, Any] = {}
    for column in spec.columns:
        raw = cells.get(column.header, "").strip()
        if not raw:
            if column.required:
                out.problems.append(RowProblem(spec.title, row, column.header, "必填"))
            record[column.field] = column.default
            continue
        try:
            record[column.field] = column.parse(raw)
        except CellError as error:
            record[column.field] = None  # reported below; the row is never written
            out.problems.append(RowProblem(spec.title, row, column.header, f"“{raw[:40]}” {error}"))
    record["_row"] = row
    out.records.append(record)


def parse_sheet(spec: SheetSpec, rows: Sequence[Sequence[str]]) -> ParsedSheet:
    """Every row parsed; every problem collected (never just the first)."""
    out = ParsedSheet(spec)
    if not rows:
        return out
    header = [cell.strip() for cell in rows[0]]
    out.problems.extend(_header_problems(spec, header))
    seen: dict[Any, int] = {}
    key_column = spec.column(spec.key)
    for offset, values in enumerate(rows[1:], start=2):
        cells = dict(zip(header, (str(v) for v in values), strict=False))
        before = len(out.records)
        _parse_row(spec, cells, offset, out)
        key = out.records[before].get(spec.key)
        if key in seen:
            out.problems.append(RowProblem(spec.title, offset, key_column.header, f"与第 {seen[key]} 行重复"))
        elif key is not None:
            seen[key] = offset
    return out


def reference_problems(
    parsed: Mapping[SheetKind, ParsedSheet], registered: Mapping[SheetKind, set[str]]
) -> list[RowProblem]:
    """References must name a row of this file or one already registered."""
    problems: list[RowProblem] = []
    for sheet in parsed.values():
        for reference in sheet.spec.references:
            target = parsed.get(reference.target)
            known = registered.get(reference.target, set()) | (
                {r.get(target.spec.key) for r in target.records} if target else set()
            )
            header = sheet.spec.column(reference.field).header
            target_title = SHEET_BY_KIND[reference.target].title
            for record in sheet.records:
                value = record.get(reference.field)
                if value and value not in known:
                    message = f"“{value}” 在「{target_title}」中不存在"
                    problems.append(RowProblem(sheet.spec.title, record["_row"], header, message))
    return problems


def export_rows(spec: SheetSpec, records: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """Header plus one row per record, sorted by key, formatted as an importer would type them."""
    ordered = sorted(records, key=lambda r: str(r[spec.key]))
    rows = [[c.header for c in spec.columns]]
    rows += [
        [c.format(r.get(c.field)) if r.get(c.field) not in (None, "") else "" for c in spec.columns]
        for r in ordered
    ]
    return rows


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {name: (before.get(name), value) for name, value in after.items() if before.get(name) != value}
