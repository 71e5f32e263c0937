"""Pure approval rules: state machines, the checklist, automatic submit checks, SLA clocks, codes.

Nothing here touches the database; time and the calendar are arguments.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus
from typing import Any

from domain.approvals.catalogue import Catalogue, MaterialSpec, Stage
from domain.calendar.rules import WorkingCalendar, local_date
from domain.errors import Conflict, ValidationFailed
from domain.projects.rules import PROJECT_CODE_RE, is_valid_uscc

APPLICATION_CODE_RE = re.compile(r"^SP(\d{4})-(\d{4,})$")
MAX_AREA_M2 = 10_000_000.0
MAX_INVESTMENT_WAN = 100_000_000.0  # 1 trillion CNY: anything above is a typo in 元 instead of 万元


class ApplicationStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    CORRECTION_REQUIRED = "correction_required"
    APPROVED = "approved"
    REJECTED = "rejected"


APPLICATION_TRANSITIONS: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    ApplicationStatus.DRAFT: frozenset({ApplicationStatus.SUBMITTED}),
    ApplicationStatus.SUBMITTED: frozenset({ApplicationStatus.UNDER_REVIEW}),
    ApplicationStatus.UNDER_REVIEW: frozenset(
        {ApplicationStatus.CORRECTION_REQUIRED, ApplicationStatus.APPROVED, ApplicationStatus.REJECTED}
    ),
    # The enterprise answers the one consolidated notice with one resubmission.
    ApplicationStatus.CORRECTION_REQUIRED: frozenset({ApplicationStatus.SUBMITTED}),
    ApplicationStatus.APPROVED: frozenset(),
    ApplicationStatus.REJECTED: frozenset(),
}

APPLICATION_STATUS_LABELS = {
    ApplicationStatus.DRAFT: "草稿",
    ApplicationStatus.SUBMITTED: "已提交",
    ApplicationStatus.UNDER_REVIEW: "审查中",
    ApplicationStatus.CORRECTION_REQUIRED: "待补正",
    ApplicationStatus.APPROVED: "已办结（准予许可）",
    ApplicationStatus.REJECTED: "不予许可",
}


class TaskStatus(StrEnum):
    IN_REVIEW = "in_review"
    CORRECTION_REQUESTED = "correction_requested"
    APPROVED = "approved"
    REJECTED = "rejected"


class TaskDecision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CORRECTION = "request_correction"


TASK_TRANSITIONS: dict[tuple[TaskStatus, TaskDecision], TaskStatus] = {
    (TaskStatus.IN_REVIEW, TaskDecision.APPROVE): TaskStatus.APPROVED,
    (TaskStatus.IN_REVIEW, TaskDecision.REJECT): TaskStatus.REJECTED,
    (TaskStatus.IN_REVIEW, TaskDecision.REQUEST_CORRECTION): TaskStatus.CORRECTION_REQUESTED,
}

TASK_STATUS_LABELS = {
    TaskStatus.IN_REVIEW: "审查中",
    TaskStatus.CORRECTION_REQUESTED: "要求补正",
    TaskStatus.APPROVED: "通过",
    TaskStatus.REJECTED: "不通过",
}


class SlaState(StrEnum):
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    PAUSED = "paused"
    DONE = "done"


def next_application_status(current: ApplicationStatus, target: ApplicationStatus) -> ApplicationStatus:
    if target not in APPLICATION_TRANSITIONS[current]:
        raise Conflict(f"an application cannot go from {current} to {target}", code="invalid_transition")
    return target


def next_task_status(current: TaskStatus, decision: TaskDecision) -> TaskStatus:
    target = TASK_TRANSITIONS.get((current, decision))
    if target is None:
        raise Conflict(
            f"a task in {current} cannot take the decision {decision}", code="task_already_decided"
        )
    return target


def outcome_of(task_statuses: Iterable[TaskStatus]) -> ApplicationStatus | None:
    """What the application becomes once its tasks say so; None while a department is still reviewing.

    One rejection ends the application; all approvals approve it; otherwise, once nobody is still
    reviewing, the departments' correction requests go out together as ONE notice.
    """
    statuses = list(task_statuses)
    if TaskStatus.REJECTED in statuses:
        return ApplicationStatus.REJECTED
    if TaskStatus.IN_REVIEW in statuses:
        return None
    if statuses and all(status is TaskStatus.APPROVED for status in statuses):
        return ApplicationStatus.APPROVED
    return ApplicationStatus.CORRECTION_REQUIRED


def format_application_code(year: int, sequence: int) -> str:
    return f"SP{year:04d}-{sequence:04d}"


def is_application_code(text: str) -> bool:
    return bool(APPLICATION_CODE_RE.match(text))


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


# --- SLA clocks -------------------------------------------------------------------------------------


def due_at(
    calendar: WorkingCalendar, *, started_at: dt.datetime, limit_days: int, paused_days: int
) -> dt.datetime:
    """The deadline: the limit plus every working day the clock stood still, from the (re)start."""
    return calendar.due_at(started_at, limit_days + paused_days)


def paused_working_days(calendar: WorkingCalendar, *, paused_at: dt.datetime, resumed_at: dt.datetime) -> int:
    """Working days the clock stood still: those in (pause date, resume date], Shanghai dates."""
    return max(0, calendar.working_days_between(local_date(paused_at), local_date(resumed_at)))


def sla_state(
    calendar: WorkingCalendar,
    *,
    due: dt.datetime | None,
    now: dt.datetime,
    done: bool,
    paused: bool,
    due_soon_days: int,
) -> SlaState:
    if done:
        return SlaState.DONE
    if paused:
        return SlaState.PAUSED
    if due is None:
        return SlaState.ON_TRACK
    if now > due:
        return SlaState.OVERDUE
    remaining = calendar.working_days_between(local_date(now), local_date(due))
    return SlaState.DUE_SOON if remaining <= due_soon_days else SlaState.ON_TRACK


def elapsed_working_days(
    calendar: WorkingCalendar, *, start: dt.datetime, end: dt.datetime, paused_days: int
) -> int:
    return max(0, calendar.working_days_between(local_date(start), local_date(end)) - paused_days)


# --- consolidated correction notice -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CorrectionRequest:
    department: str
    comment: str
    materials: tuple[str, ...]


def consolidate(requests: Sequence[CorrectionRequest]) -> dict[str, Any]:
    """Merge every department's request into one notice: per department, and per material once."""
    by_material: dict[str, list[str]] = {}
    for request in requests:
        for key in request.materials:
            by_material.setdefault(key, [])
            if request.department not in by_material[key]:
                by_material[key].append(request.department)
    return {
        "departments": [
            {"department": r.department, "comment": r.comment, "materials": list(r.materials)}
            for r in requests
        ],
        "materials": [{"key": key, "requested_by": deps} for key, deps in by_material.items()],
    }
