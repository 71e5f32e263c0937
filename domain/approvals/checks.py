"""Pure automatic checks before submission: the application form's fields, the stage's checklist of
materials (merged across items, with their conditions) and each uploaded file's facts.

Nothing here touches the database; today is an argument.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from domain.approvals.catalogue import Catalogue, MaterialSpec, Stage
from domain.errors import ValidationFailed
from domain.projects.rules import PROJECT_CODE_RE, is_valid_uscc

MAX_AREA_M2 = 10_000_000.0
MAX_INVESTMENT_WAN = 100_000_000.0  # 1 trillion CNY: anything above is a typo in 元 instead of 万元


class ApplicationRejected(ValidationFailed):
    """The automatic checks found problems; ``problems`` lists every one of them."""

    code = "checks_failed"
    status = HTTPStatus.UNPROCESSABLE_ENTITY


# --- application fields ------------------------------------------------------------------------------

FIELD_NAMES = ("project_name", "applicant_uscc", "area_m2", "investment_wan", "planned_start", "planned_end")


def _number(value: object, name: str, *, high: float, problems: list[str]) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        problems.append(f"{name}: must be a number")
        return None
    try:
        number = float(value)
    except ValueError:
        problems.append(f"{name}: must be a number")
        return None
    if not math.isfinite(number) or not 0 < number <= high:
        problems.append(f"{name}: must be greater than 0 and at most {high:g}")
        return None
    return number


def _date(value: object, name: str, *, problems: list[str]) -> dt.date | None:
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{name}: must be an ISO date YYYY-MM-DD")
        return None


def clean_fields(raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Normalise the editable fields of a draft; returns (fields, problems) and never raises.

    Unknown keys are a problem rather than silently dropped, so a typo in the mini-program shows up.
    """
    problems = [f"{key}: unknown field" for key in raw if key not in FIELD_NAMES]
    fields: dict[str, Any] = {}
    name = raw.get("project_name")
    if name is not None:
        if not isinstance(name, str) or not 0 < len(name.strip()) <= 128 or not name.isprintable():
            problems.append("project_name: 1 to 128 characters")
        else:
            fields["project_name"] = name.strip()
    uscc = raw.get("applicant_uscc")
    if uscc is not None:
        if not isinstance(uscc, str) or len(uscc) > 18 or not uscc.strip().isalnum():
            problems.append("applicant_uscc: must be an 18-character code")
        else:
            fields["applicant_uscc"] = uscc.strip().upper()
    for key, high in (("area_m2", MAX_AREA_M2), ("investment_wan", MAX_INVESTMENT_WAN)):
        if key in raw and (number := _number(raw[key], key, high=high, problems=problems)) is not None:
            fields[key] = number
    for key in ("planned_start", "planned_end"):
        if key in raw and (day := _date(raw[key], key, problems=problems)) is not None:
            fields[key] = day.isoformat()
    return fields, problems


def field_problems(fields: Mapping[str, Any], *, today: dt.date) -> list[str]:
    """Everything wrong with the form for submission, all at once."""
    problems: list[str] = []
    if not fields.get("project_name"):
        problems.append("project_name: required")
    uscc = str(fields.get("applicant_uscc") or "")
    if not uscc:
        problems.append("applicant_uscc: required")
    elif not is_valid_uscc(uscc):
        problems.append("applicant_uscc: the unified social credit code checksum is wrong")
    for key in ("area_m2", "investment_wan"):
        if not isinstance(fields.get(key), int | float):
            problems.append(f"{key}: required")
    start, end = fields.get("planned_start"), fields.get("planned_end")
    if not start:
        problems.append("planned_start: required")
    if not end:
        problems.append("planned_end: required")
    if start and end:
        start_day, end_day = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        if end_day <= start_day:
            problems.append("planned_end: must be after planned_start")
        if end_day < today:
            problems.append("planned_end: is already in the past")
        if (end_day - start_day).days > 366 * 15:
            problems.append("planned_end: more than 15 years after planned_start")
    return problems


def validate_project_code(code: str) -> str:
    code = code.strip().upper()
    if not PROJECT_CODE_RE.match(code):
        raise ValidationFailed("project_code must look like WL-2026-0031", code="invalid_project_code")
    return code


# --- checklist and material checks -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredMaterial:
    """What the checks need to know about the current version of an uploaded material."""

    key: str
    kind: str
    size: int
    pages: int | None
    version: int


@dataclass(frozen=True, slots=True)
class ChecklistLine:
    key: str
    name: str
    types: tuple[str, ...]
    required: bool
    condition: str
    applies: bool | None  # None: depends on a field not filled in yet
    items: tuple[str, ...]
    uploaded_version: int | None

    @property
    def missing(self) -> bool:
        return self.required and self.applies is not False and self.uploaded_version is None


def checklist(
    stage: Stage, fields: Mapping[str, Any], uploaded: Mapping[str, StoredMaterial]
) -> list[ChecklistLine]:
    """One line per distinct material of the stage's applicable items, merged across items."""
    specs: dict[str, MaterialSpec] = {}
    names: dict[str, list[str]] = {}
    applies: dict[str, bool | None] = {}
    for item in stage.applicable_items(fields):
        for spec in item.materials:
            item_verdict = True if item.when is None else item.when.holds(fields)
            spec_verdict = True if spec.when is None else spec.when.holds(fields)
            verdict = _weakest(item_verdict, spec_verdict)
            previous = specs.get(spec.key)
            # The strictest reading wins when two items list the same material.
            if previous is None or (spec.required and not previous.required):
                specs[spec.key] = spec
            names.setdefault(spec.key, []).append(item.name)
            applies[spec.key] = _strongest(applies.get(spec.key, False), verdict)
    return [
        ChecklistLine(
            key=key,
            name=spec.name,
            types=spec.types,
            required=spec.required,
            condition=spec.when.describe() if spec.when else "",
            applies=applies[key],
            items=tuple(names[key]),
            uploaded_version=uploaded[key].version if key in uploaded else None,
        )
        for key, spec in specs.items()
    ]


def _weakest(first: bool | None, second: bool | None) -> bool | None:
    """Both conditions must hold: False beats unknown, unknown beats True."""
    if first is False or second is False:
        return False
    if first is None or second is None:
        return None
    return True


def _strongest(first: bool | None, second: bool | None) -> bool | None:
    if first is True or second is True:
        return True
    if first is None or second is None:
        return None
    return False


def material_problems(
    lines: Sequence[ChecklistLine], uploaded: Mapping[str, StoredMaterial], *, max_bytes: int
) -> list[str]:
    problems: list[str] = []
    for line in lines:
        stored = uploaded.get(line.key)
        if stored is None:
            if line.missing:
                problems.append(f"{line.key}: 缺少必需材料《{line.name}》")
            continue
        problems.extend(
            f"{line.key}: {p}" for p in file_problems(stored, accepted=line.types, max_bytes=max_bytes)
        )
    return problems


def file_problems(stored: StoredMaterial, *, accepted: Sequence[str], max_bytes: int) -> list[str]:
    """Problems with one file's facts (kind sniffed from content, size, PDF pages)."""
    problems: list[str] = []
    if stored.size == 0:
        problems.append("empty_file: 文件为空")
    elif stored.size > max_bytes:
        problems.append(f"file_too_large: 文件超过 {max_bytes // (1024 * 1024)} MB")
    if stored.kind not in accepted:
        problems.append(f"unsupported_type: 文件类型为 {stored.kind or '未知'}，只接受 {'/'.join(accepted)}")
    elif stored.kind == "pdf" and not stored.pages:
        problems.append("empty_pdf: PDF 没有页面")
    return problems


def submit_problems(
    *,
    catalogue: Catalogue,
    stage_key: str,
    fields: Mapping[str, Any],
    uploaded: Mapping[str, StoredMaterial],
    max_bytes: int,
    today: dt.date,
) -> list[str]:
    stage = catalogue.stage(stage_key)
    if stage is None:
        return [f"stage: unknown stage {stage_key}"]
    problems = field_problems(fields, today=today)
    lines = checklist(stage, fields, uploaded)
    return problems + material_problems(lines, uploaded, max_bytes=max_bytes)
