"""Credit reads: a subject's standing with its explanation and trend, the public lookup, staff queues,
the bidding export and "what changed lately" for the bot.

Reads use ``values_list`` (no model instances): the export scores every enterprise at once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from tortoise.expressions import Q

from domain.accounts.rules import Principal, Role
from domain.credit.catalogue import Catalogue
from domain.credit.models import CreditAppeal, CreditAudit, CreditRecord, CreditSubject
from domain.credit.rules import (
    AppealStatus,
    RecordStatus,
    ScoredRecord,
    Standing,
    SubjectKind,
    assess,
    changes_between,
    history,
    month_ends,
    quick_grade,
    record_state,
)
from domain.errors import NotFound, ValidationFailed

MAX_PAGE_SIZE = 100
PUBLIC_LOOKUP_LIMIT = 20
# Only approved records can ever count; pending and rejected ones are listed but never scored.
SCORED_STATUSES = (RecordStatus.EFFECTIVE, RecordStatus.REVOKED)
_SCORED_FIELDS = (
    "id",
    "record_type",
    "category",
    "points",
    "effective_on",
    "expires_on",
    "approved_on",
    "revoked_on",
    "project_code",
    "source_ref",
)


def _scored(row: Sequence[Any]) -> ScoredRecord:
    return ScoredRecord(*row)


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


async def _subject(kind: SubjectKind, subject_id: str) -> CreditSubject:
    subject = await CreditSubject.filter(kind=kind, subject_id=subject_id).first()
    if subject is None:
        raise NotFound(f"no credit file for {kind.value} {subject_id}", code="credit_subject_not_found")
    return subject


async def _records(kind: SubjectKind, subject_id: str) -> list[tuple[ScoredRecord, RecordStatus]]:
    rows = await CreditRecord.filter(subject_kind=kind, subject_id=subject_id).values_list(
        *_SCORED_FIELDS, "status"
    )
    return [(_scored(row[:-1]), RecordStatus(row[-1])) for row in rows]


def _line(record: ScoredRecord, catalogue: Catalogue) -> dict[str, Any]:
    record_type = catalogue.record_types.get(record.record_type)
    return {
        "record_id": record.record_id,
        "record_type": record.record_type,
        "label": record_type.label if record_type else record.record_type,
        "category": record.category,
        "points": record.points,
        "effective_on": record.effective_on.isoformat(),
        "expires_on": record.expires_on.isoformat(),
        "source_ref": record.source_ref,
        "project_code": record.project_code,
    }


def standing_json(standing: Standing, catalogue: Catalogue) -> dict[str, Any]:
    return {
        "as_of": standing.as_of.isoformat(),
        "base_score": catalogue.base_score,
        "score": standing.score,
        "grade": standing.grade,
        "grade_label": standing.grade_label,
        "blacklisted": standing.blacklisted,
        "bidding_eligible": standing.bidding_eligible,
        "sanctions": [
            {
                "name": s.name,
                "label": s.label,
                "blacklist": s.blacklist,
                "project_code": s.project_code,
                "starts_on": s.starts_on.isoformat(),
                "ends_on": s.ends_on.isoformat(),
            }
            for s in standing.sanctions
        ],
        "explanation": [_line(record, catalogue) for record in standing.counted],
    }


async def subject_standing(
    kind: SubjectKind,
    subject_id: str,
    *,
    as_of: dt.date,
    catalogue: Catalogue,
    trend_months: int = 12,
    missing_ok: bool = False,
) -> dict[str, Any]:
    """Everything the owner of a file sees: score, grade, explanation, trend, all records with expiry.

    ``missing_ok``: an enterprise without any record yet sees the base score rather than an error.
    """
    found = await CreditSubject.filter(kind=kind, subject_id=subject_id).first()
    if found is None and not missing_ok:
        raise NotFound(f"no credit file for {kind.value} {subject_id}", code="credit_subject_not_found")
    name = found.name if found is not None else ""
    pairs = await _records(kind, subject_id)
    scored = [record for record, status in pairs if status in SCORED_STATUSES]
    open_appeals = dict(
        await CreditAppeal.filter(record__subject_kind=kind, record__subject_id=subject_id)
        .order_by("filed_at")
        .values_list("record_id", "status")
    )
    records = [
        {
            **_line(record, catalogue),
            "status": status.value,
            "state": record_state(record, as_of, status=status).value,
            "appeal_status": open_appeals.get(record.record_id),
        }
        for record, status in sorted(pairs, key=lambda p: (p[0].effective_on, p[0].record_id), reverse=True)
    ]
    trend = history(scored, month_ends(as_of, trend_months), catalogue)
    return {
        "subject": {"kind": kind.value, "id": subject_id, "name": name},
        **standing_json(assess(scored, as_of, catalogue), catalogue),
        "trend": [{"date": day.isoformat(), "score": score, "grade": grade} for day, score, grade in trend],
        "records": records,
    }


async def own_subject(principal: Principal) -> tuple[SubjectKind, str]:
    """The credit file a mini-program user may read as its own."""
    if principal.role is Role.ENTERPRISE and principal.enterprise_uscc:
        return SubjectKind.ENTERPRISE, principal.enterprise_uscc
    subject = await CreditSubject.filter(holder_account=principal.subject).first()
    if subject is None:
        raise NotFound("no credit file is bound to your account", code="credit_subject_not_found")
    return subject.kind, subject.subject_id


async def public_lookup(query: str, *, as_of: dt.date, catalogue: Catalogue) -> list[dict[str, Any]]:
    """Enterprises by name or credit code: grade and counted records only, no notes, no people."""
    term = query.strip()
    subjects = (
        await CreditSubject.filter(kind=SubjectKind.ENTERPRISE)
        .filter(Q(name__icontains=term) | Q(subject_id=term.upper()))
        .order_by("name")
        .limit(PUBLIC_LOOKUP_LIMIT)
        .values_list("subject_id", "name")
    )
    by_subject = await _scored_by_subject([uscc for uscc, _ in subjects], as_of=as_of, catalogue=catalogue)
    results = []
    for uscc, name in subjects:
        standing = assess(by_subject.get(uscc, []), as_of, catalogue)
        results.append(
            {
                "uscc": uscc,
                "name": name,
                "as_of": as_of.isoformat(),
                "grade": standing.grade,
                "grade_label": standing.grade_label,
                "records": [_line(record, catalogue) for record in standing.counted],
            }
        )
    return results


async def _scored_by_subject(
    usccs: Sequence[str] | None, *, as_of: dt.date, catalogue: Catalogue
) -> dict[str, list[ScoredRecord]]:
    """Only rows that can matter on ``as_of``: approved by then, and still valid or watched by a sanction.

    The database drops expired and future rows, so the bulk export moves a fraction of the table.
    """
    watched = sorted({rule.record_type for rule in catalogue.sanctions})
    queryset = CreditRecord.filter(
        Q(expires_on__gt=as_of) | Q(record_type__in=watched),
        subject_kind=SubjectKind.ENTERPRISE,
        status__in=SCORED_STATUSES,
        approved_on__lte=as_of,
        effective_on__lte=as_of,
    )
    if usccs is not None:
        queryset = queryset.filter(subject_id__in=list(usccs))
    grouped: dict[str, list[ScoredRecord]] = defaultdict(list)
    for row in await queryset.values_list("subject_id", *_SCORED_FIELDS):
        grouped[row[0]].append(ScoredRecord(*row[1:]))
    return grouped


def grade_rows(
    subjects: Sequence[tuple[str, str]],
    by_subject: dict[str, list[ScoredRecord]],
    *,
    as_of: dt.date,
    catalogue: Catalogue,
) -> list[tuple[str, str, int, str, str, str]]:
    """Export rows (uscc, name, score, grade, bidding eligibility, date): the pure bulk path."""
    rows = []
    for uscc, name in subjects:
        score, grade, eligible = quick_grade(by_subject.get(uscc, ()), as_of, catalogue)
        rows.append((uscc, name, score, grade, "是" if eligible else "否", as_of.isoformat()))
    return rows


async def enterprise_grades(
    *, as_of: dt.date, catalogue: Catalogue
) -> list[tuple[str, str, int, str, str, str]]:
    subjects = (
        await CreditSubject.filter(kind=SubjectKind.ENTERPRISE)
        .order_by("subject_id")
        .values_list("subject_id", "name")
    )
    by_subject = await _scored_by_subject(None, as_of=as_of, catalogue=catalogue)
    return grade_rows(subjects, by_subject, as_of=as_of, catalogue=catalogue)


async def list_records(*, status: RecordStatus | None, page: int, page_size: int) -> dict[str, Any]:
    queryset = CreditRecord.all() if status is None else CreditRecord.filter(status=status)
    total = await queryset.count()
    rows = (
        await queryset.order_by("-id")
        .offset((page - 1) * page_size)
        .limit(page_size)
        .values(
            "id",
            "subject_kind",
            "subject_id",
            "record_type",
            "category",
            "points",
            "effective_on",
            "expires_on",
            "status",
            "project_code",
            "source_ref",
            "summary",
            "created_by",
            "created_at",
        )
    )
    items = [
        {
            **row,
            "effective_on": _iso(row["effective_on"]),
            "expires_on": _iso(row["expires_on"]),
            "created_at": row["created_at"].isoformat(),
            "subject_kind": str(row["subject_kind"]),
            "category": str(row["category"]),
            "status": str(row["status"]),
        }
        for row in rows
    ]
    return {"items": items, "total": total, "page": page, "page_size": page_size}


async def list_appeals(*, status: AppealStatus | None, page: int, page_size: int) -> dict[str, Any]:
    queryset = CreditAppeal.all() if status is None else CreditAppeal.filter(status=status)
    total = await queryset.count()
    rows = (
        await queryset.order_by("-id")
        .offset((page - 1) * page_size)
        .limit(page_size)
        .values(
            "id",
            "record_id",
            "status",
            "filed_by",
            "reason",
            "attachments",
            "filed_at",
            "decided_by",
            "decision_note",
        )
    )
    items = [{**row, "status": str(row["status"]), "filed_at": row["filed_at"].isoformat()} for row in rows]
    return {"items": items, "total": total, "page": page, "page_size": page_size}


async def audit_trail(record_id: int) -> list[dict[str, Any]]:
    rows = (
        await CreditAudit.filter(record_id=record_id)
        .order_by("id")
        .values("at", "actor", "action", "appeal_id", "detail")
    )
    return [{**row, "at": row["at"].isoformat()} for row in rows]


async def recent_changes(
    kind: SubjectKind, subject_id: str, *, today: dt.date, days: int, catalogue: Catalogue
) -> list[dict[str, Any]]:
    """Why the score moved in the last ``days`` days, newest first (for "why was I deducted?")."""
    pairs = await _records(kind, subject_id)
    scored = [record for record, status in pairs if status in SCORED_STATUSES]
    changes = changes_between(scored, today - dt.timedelta(days=days), today)
    return [
        {"on": c.on.isoformat(), "kind": c.kind.value, "delta": c.delta, **_line(c.record, catalogue)}
        for c in changes
    ]


async def subject_name(kind: SubjectKind, subject_id: str) -> str:
    return (await _subject(kind, subject_id)).name


async def find_enterprises(term: str, *, limit: int = 5) -> list[tuple[str, str]]:
    """(uscc, name) of enterprises whose name contains ``term`` or whose code is ``term``."""
    rows = (
        await CreditSubject.filter(kind=SubjectKind.ENTERPRISE)
        .filter(Q(name__icontains=term.strip()) | Q(subject_id=term.strip().upper()))
        .order_by("name")
        .limit(limit)
        .values_list("subject_id", "name")
    )
    return [(uscc, name) for uscc, name in rows]


async def enterprise_page(
    *, term: str, grade: str, page: int, page_size: int, as_of: dt.date, catalogue: Catalogue
) -> dict[str, Any]:
    """Staff list: enterprises by name or credit code with score and grade on ``as_of``, one grade or all.

    Without a grade filter only the page is scored; a grade filter scores every match (the export's path).
    """
    bands = {band.grade: band.label for band in (*catalogue.grades, catalogue.blacklist_grade)}
    if grade and grade not in bands:
        raise ValidationFailed(f"unknown grade {grade[:8]!r}", code="invalid_parameter")
    queryset = CreditSubject.filter(kind=SubjectKind.ENTERPRISE)
    if term.strip():
        queryset = queryset.filter(Q(name__icontains=term.strip()) | Q(subject_id=term.strip().upper()))
    subjects = await queryset.order_by("name", "subject_id").values_list("subject_id", "name")
    start = (page - 1) * page_size
    if not grade:
        total, subjects = len(subjects), subjects[start : start + page_size]
    scored = await _scored_by_subject([uscc for uscc, _ in subjects], as_of=as_of, catalogue=catalogue)
    items = []
    for uscc, name in subjects:
        score, band, eligible = quick_grade(scored.get(uscc, ()), as_of, catalogue)
        if not grade or band == grade:
            items.append(
                {"uscc": uscc, "name": name, "score": score, "grade": band, "grade_label": bands[band]}
                | {"bidding_eligible": eligible}
            )
    if grade:
        total, items = len(items), items[start : start + page_size]
    return {"items": items, "total": total, "page": page, "page_size": page_size, "as_of": as_of.isoformat()}


async def appeal_queue(
    *, status: AppealStatus | None, page: int, page_size: int, catalogue: Catalogue
) -> dict[str, Any]:
    """Staff appeals (``list_appeals``), each with the enterprise and the record it disputes."""
    result = await list_appeals(status=status, page=page, page_size=page_size)
    record_ids = [item["record_id"] for item in result["items"]]
    records = {
        row[0]: row
        for row in await CreditRecord.filter(id__in=record_ids).values_list(
            "id", "subject_id", "record_type", "points", "status", "effective_on", "source_ref"
        )
    }
    names = dict(
        await CreditSubject.filter(
            kind=SubjectKind.ENTERPRISE, subject_id__in=[row[1] for row in records.values()]
        ).values_list("subject_id", "name")
    )
    for item in result["items"]:
        _, uscc, record_type, points, status_value, effective_on, source_ref = records[item["record_id"]]
        known = catalogue.record_types.get(record_type)
        item["record"] = {
            "uscc": uscc,
            "name": names.get(uscc, uscc),
            "label": known.label if known else record_type,
            "points": points,
            "status": str(status_value),
            "effective_on": effective_on.isoformat(),
            "source_ref": source_ref,
        }
    return result
