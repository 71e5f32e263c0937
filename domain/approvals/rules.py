"""Pure approval rules: the application and review-task state machines, application codes, and the
consolidated correction notice.

The automatic submit checks are in ``checks`` and the SLA clocks in ``clocks``. Nothing here touches
the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.errors import Conflict

APPLICATION_CODE_RE = re.compile(r"^SP(\d{4})-(\d{4,})$")


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
