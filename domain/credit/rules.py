"""Pure credit rules: record lifecycle, validity, scores, grades, sanctions, explanations.

Everything takes the date it is asked about (``as_of``) as an argument, so a score can be computed for
any day in the past and the same records always give the same answer. Dates are calendar days in
Asia/Shanghai (the bureau's day), decided by the caller.

When a record counts on day ``d``: it was approved on or before ``d`` (pending records never count),
``effective_on <= d < expires_on``, and it had not been revoked by an upheld appeal on or before ``d``.
Revocation is therefore not retroactive: a bidding export for a past date reproduces what was true then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.credit.catalogue import Catalogue, GradeBand, add_months
from domain.errors import Conflict

# Published with every audited change of a record (domain/credit/services.py ``recorded_event``) for
# the evidence log. Payload: ``{"record_id", "action", "appeal_id", "subject_kind", "subject_id"`` (or
# ``"person_id"``, pseudonymised in the leaf)``, "record_type", "points", "status", "effective_on",
# "project_code", "source_ref_sha256", "actor_id", "note_sha256", "file_refs", "at"}``.
CREDIT_RECORDED = "CreditRecorded"


class SubjectKind(StrEnum):
    ENTERPRISE = "enterprise"
    PERSON = "person"
    PROJECT = "project"


class RecordStatus(StrEnum):
    """Stored status. "expired" and "not yet effective" are derived from dates, never stored."""

    PENDING = "pending"
    EFFECTIVE = "effective"
    REJECTED = "rejected"
    REVOKED = "revoked"


class RecordAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REVOKE = "revoke"


RECORD_TRANSITIONS: Mapping[RecordStatus, Mapping[RecordAction, RecordStatus]] = {
    RecordStatus.PENDING: {
        RecordAction.APPROVE: RecordStatus.EFFECTIVE,
        RecordAction.REJECT: RecordStatus.REJECTED,
    },
    RecordStatus.EFFECTIVE: {RecordAction.REVOKE: RecordStatus.REVOKED},
    RecordStatus.REJECTED: {},
    RecordStatus.REVOKED: {},
}


class AppealStatus(StrEnum):
    FILED = "filed"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


class AppealAction(StrEnum):
    UPHOLD = "uphold"
    DISMISS = "dismiss"


APPEAL_TRANSITIONS: Mapping[AppealStatus, Mapping[AppealAction, AppealStatus]] = {
    AppealStatus.FILED: {
        AppealAction.UPHOLD: AppealStatus.UPHELD,
        AppealAction.DISMISS: AppealStatus.DISMISSED,
    },
    AppealStatus.UPHELD: {},
    AppealStatus.DISMISSED: {},
}


def next_record_status(current: RecordStatus, action: RecordAction) -> RecordStatus:
    target = RECORD_TRANSITIONS[current].get(action)
    if target is None:
        raise Conflict(
            f"a {current.value} record cannot be {action.value}d", code="invalid_record_transition"
        )
    return target


def next_appeal_status(current: AppealStatus, action: AppealAction) -> AppealStatus:
    target = APPEAL_TRANSITIONS[current].get(action)
    if target is None:
        raise Conflict(f"a {current.value} appeal cannot be decided again", code="invalid_appeal_transition")
    return target


# --- records as the scoring sees them --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoredRecord:
    """The facts of one record that scoring needs (no personal data, no free text)."""

    record_id: int
    record_type: str
    category: str
    points: int
    effective_on: dt.date
    expires_on: dt.date
    approved_on: dt.date | None
    revoked_on: dt.date | None = None
    project_code: str = ""
    source_ref: str = ""

    def counts_on(self, day: dt.date) -> bool:
        return (
            self.approved_on is not None
            and self.approved_on <= day
            and self.effective_on <= day < self.expires_on
            and (self.revoked_on is None or day < self.revoked_on)
        )

    def standing_on(self, day: dt.date) -> bool:
        """Approved and not revoked on ``day``, whatever its validity (what sanctions count)."""
        return (
            self.approved_on is not None
            and self.approved_on <= day
            and self.effective_on <= day
            and (self.revoked_on is None or day < self.revoked_on)
        )


class RecordState(StrEnum):
    """What a record is on a given day, for display."""

    PENDING = "pending"
    REJECTED = "rejected"
    NOT_YET_EFFECTIVE = "not_yet_effective"
    EFFECTIVE = "effective"
    EXPIRED = "expired"
    REVOKED = "revoked"


def record_state(record: ScoredRecord, day: dt.date, *, status: RecordStatus) -> RecordState:
    if status is RecordStatus.PENDING:
        return RecordState.PENDING
    if status is RecordStatus.REJECTED:
        return RecordState.REJECTED
    if record.revoked_on is not None and record.revoked_on <= day:
        return RecordState.REVOKED
    if day < record.effective_on or (record.approved_on is not None and day < record.approved_on):
        return RecordState.NOT_YET_EFFECTIVE
    if day >= record.expires_on:
        return RecordState.EXPIRED
    return RecordState.EFFECTIVE


def score_as_of(records: Iterable[ScoredRecord], day: dt.date, *, base: int) -> int:
    return base + sum(record.points for record in records if record.counts_on(day))


def grade_for(score: float, bands: Sequence[GradeBand]) -> GradeBand:
    for band in bands:
        if band.min_score is None or score >= band.min_score:
            return band
    return bands[-1]


@dataclass(frozen=True, slots=True)
class ActiveSanction:
    name: str
    label: str
    blacklist: bool
    project_code: str
    starts_on: dt.date
    ends_on: dt.date  # exclusive


def active_sanctions(
    records: Iterable[ScoredRecord], day: dt.date, catalogue: Catalogue
) -> list[ActiveSanction]:
    """Sanctions in force on ``day``: the count-th standing record of a type in one project starts one."""
    if not catalogue.sanctions:
        return []
    watched = {rule.record_type for rule in catalogue.sanctions}
    by_cycle: dict[tuple[str, str], list[dt.date]] = {}
    for record in records:
        if record.record_type in watched and record.standing_on(day):
            by_cycle.setdefault((record.record_type, record.project_code), []).append(record.effective_on)
    active: list[ActiveSanction] = []
    for (record_type, project_code), dates in by_cycle.items():
        dates.sort()
        for rule in catalogue.sanctions:
            if rule.record_type != record_type or len(dates) < rule.count:
                continue
            starts_on = dates[rule.count - 1]
            ends_on = add_months(starts_on, rule.duration_months)
            if starts_on <= day < ends_on:
                active.append(
                    ActiveSanction(rule.name, rule.label, rule.blacklist, project_code, starts_on, ends_on)
                )
    return sorted(active, key=lambda s: (not s.blacklist, s.starts_on))


@dataclass(frozen=True, slots=True)
class Standing:
    """Score and grade of one subject on one day, with every counted record (the explanation)."""

    as_of: dt.date
    score: int
    grade: str
    grade_label: str
    blacklisted: bool
    bidding_eligible: bool
    sanctions: tuple[ActiveSanction, ...]
    counted: tuple[ScoredRecord, ...]


def assess(records: Sequence[ScoredRecord], day: dt.date, catalogue: Catalogue) -> Standing:
    counted = tuple(
        sorted((r for r in records if r.counts_on(day)), key=lambda r: (r.effective_on, r.record_id))
    )
    score = catalogue.base_score + sum(record.points for record in counted)
    sanctions = tuple(active_sanctions(records, day, catalogue))
    blacklisted = any(s.blacklist for s in sanctions)
    band = catalogue.blacklist_grade if blacklisted else grade_for(score, catalogue.grades)
    return Standing(day, score, band.grade, band.label, blacklisted, not sanctions, sanctions, counted)


def quick_grade(records: Sequence[ScoredRecord], day: dt.date, catalogue: Catalogue) -> tuple[int, str, bool]:
    """Score, grade and bidding eligibility without the explanation: the bulk path (exports, benchmarks)."""
    score = catalogue.base_score
    for record in records:
        if record.counts_on(day):
            score += record.points
    sanctions = active_sanctions(records, day, catalogue) if catalogue.sanctions and records else []
    if any(s.blacklist for s in sanctions):
        return score, catalogue.blacklist_grade.grade, False
    return score, grade_for(score, catalogue.grades).grade, not sanctions


def history(
    records: Sequence[ScoredRecord], days: Iterable[dt.date], catalogue: Catalogue
) -> list[tuple[dt.date, int, str]]:
    return [(day, *quick_grade(records, day, catalogue)[:2]) for day in days]


def month_ends(last: dt.date, months: int) -> list[dt.date]:
    """``months`` points for a trend line: the last day of each earlier month, then ``last`` itself."""
    points = [last]
    cursor = last.replace(day=1)
    for _ in range(months - 1):
        cursor = cursor - dt.timedelta(days=1)
        points.append(cursor)
        cursor = cursor.replace(day=1)
    return points[::-1]


class ChangeKind(StrEnum):
    ADDED = "added"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class Change:
    on: dt.date
    kind: ChangeKind
    delta: int
    record: ScoredRecord


def changes_between(records: Iterable[ScoredRecord], start: dt.date, end: dt.date) -> list[Change]:
    """Why the score moved in (start, end]: records that began or stopped counting, newest first."""
    changes: list[Change] = []
    for record in records:
        if record.approved_on is None:
            continue
        began = max(record.effective_on, record.approved_on)
        stopped = (
            record.expires_on if record.revoked_on is None else min(record.expires_on, record.revoked_on)
        )
        if began >= stopped:
            continue
        if start < began <= end:
            changes.append(Change(began, ChangeKind.ADDED, record.points, record))
        if start < stopped <= end:
            kind = ChangeKind.REVOKED if stopped == record.revoked_on else ChangeKind.EXPIRED
            changes.append(Change(stopped, kind, -record.points, record))
    return sorted(changes, key=lambda c: (c.on, c.record.record_id), reverse=True)
