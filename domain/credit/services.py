"""Credit commands: add records (forms, imports, events), review them, file and decide appeals.

Every change writes an audit row in the same transaction. State changes are conditional updates on
the current status, so two staff deciding the same record at once cannot both win.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain import policies
from domain.credit import tabular
from domain.credit.catalogue import Catalogue, RecordType
from domain.credit.models import CreditAppeal, CreditAudit, CreditRecord, CreditSubject
from domain.credit.rules import (
    CREDIT_RECORDED,
    AppealAction,
    AppealStatus,
    RecordAction,
    RecordStatus,
    SubjectKind,
    next_appeal_status,
    next_record_status,
)
from domain.credit.tabular import RecordDraft, Rejection
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.events import DomainEvent
from domain.outbox import services as outbox

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_ATTACHMENTS = 9
MAX_REASON = 2000


def local_day(now: dt.datetime) -> dt.date:
    """The bureau's calendar day for an aware UTC instant."""
    return now.astimezone(SHANGHAI).date()


def rule_catalogue() -> Catalogue:
    """The deployed rule catalogue (``config/credit_rules.yml``; it changes with a deploy)."""
    return policies.current().credit


async def audit(
    actor: str,
    action: str,
    *,
    now: dt.datetime,
    record_id: int | None = None,
    appeal_id: int | None = None,
    detail: dict[str, Any] | None = None,
    note: str = "",
    file_refs: list[str] | None = None,
) -> None:
    """The audit row, and for a change of a record its evidence event, in the caller's transaction."""
    row = await CreditAudit.create(
        at=now, actor=actor, action=action, record_id=record_id, appeal_id=appeal_id, detail=detail or {}
    )
    if record_id is not None and action in EVIDENCE_ACTIONS:
        record = await CreditRecord.get(id=record_id)
        await outbox.append(
            recorded_event(record, row, note=note, file_refs=file_refs or []),
            aggregate=f"credit:{record_id}",
            now=now,
        )


# The changes an enterprise or a person may dispute; each becomes an evidence leaf.
EVIDENCE_ACTIONS = frozenset(
    {
        "add_record",
        "review_approve",
        "review_reject",
        "file_appeal",
        "appeal_uphold",
        "appeal_dismiss",
        "revoke_record",
    }
)


def recorded_event(record: CreditRecord, row: CreditAudit, *, note: str, file_refs: list[str]) -> DomainEvent:
    """``CreditRecorded`` (see domain/credit/events.py): the record as it stands after the change."""
    person = record.subject_kind is SubjectKind.PERSON
    payload: dict[str, Any] = {
        "record_id": record.id,
        "action": row.action,
        "appeal_id": row.appeal_id,
        "subject_kind": record.subject_kind.value,
        # A person's id number is personal data: the leaf keeps only its salted hash.
        ("person_id" if person else "subject_id"): record.subject_id,
        "record_type": record.record_type,
        "points": record.points,
        "status": record.status.value,
        "effective_on": record.effective_on.isoformat(),
        "project_code": record.project_code,
        "source_ref_sha256": hashlib.sha256(record.source_ref.encode()).hexdigest(),
        "actor_id": row.actor,
        "note_sha256": hashlib.sha256(note.encode()).hexdigest() if note else "",
        "file_refs": file_refs,  # the evidence log binds each file by its SHA-256
        "at": row.at.astimezone(dt.UTC).isoformat(),
    }
    # The audit row's id is unique and written in the same transaction: a stable id for the event.
    return DomainEvent(CREDIT_RECORDED, payload, event_id=f"credit-audit-{row.id}")


async def ensure_subject(
    kind: SubjectKind, subject_id: str, name: str = "", *, enterprise_uscc: str = ""
) -> None:
    subject = await CreditSubject.filter(kind=kind, subject_id=subject_id).first()
    if subject is None:
        await CreditSubject.create(
            kind=kind, subject_id=subject_id, name=(name or subject_id)[:128], enterprise_uscc=enterprise_uscc
        )
    elif name and subject.name in ("", subject_id):
        # A later source knows the real name; a name staff already set is kept.
        subject.name = name[:128]
        await subject.save(update_fields=["name"])


@dataclass(frozen=True, slots=True)
class SubjectRef:
    kind: SubjectKind
    subject_id: str
    name: str
    enterprise_uscc: str = ""


async def register_subjects(subjects: list[SubjectRef]) -> int:
    """Make credit files for known subjects (the composition root feeds it the enterprise registry).

    Returns how many were new. Existing files keep their name unless it was a placeholder.
    """
    existing = set(
        await CreditSubject.filter(kind__in=list({s.kind for s in subjects})).values_list(
            "kind", "subject_id"
        )
    )
    new = [s for s in subjects if (s.kind, s.subject_id) not in existing]
    await CreditSubject.bulk_create(
        [
            CreditSubject(
                kind=s.kind, subject_id=s.subject_id, name=s.name[:128], enterprise_uscc=s.enterprise_uscc
            )
            for s in new
        ]
    )
    return len(new)


async def bind_holder(
    kind: SubjectKind, subject_id: str, *, account_id: str, actor: str, now: dt.datetime, name: str = ""
) -> None:
    """Staff bind a credit file to the account (a site manager) that may read it as its own.

    With ``name`` a missing file is opened, so a person can be bound before any record exists.
    """
    if name:
        await ensure_subject(kind, subject_id, name)
    subject = await CreditSubject.filter(kind=kind, subject_id=subject_id).first()
    if subject is None:
        raise NotFound(f"no credit file for {kind.value} {subject_id}", code="credit_subject_not_found")
    async with in_transaction():
        await CreditSubject.filter(holder_account=account_id).update(holder_account=None)
        await CreditSubject.filter(id=subject.id).update(holder_account=account_id)
        await audit(
            actor,
            "bind_holder",
            now=now,
            detail={"kind": kind.value, "subject_id": subject_id, "account": account_id},
        )


def _check_dates(draft: RecordDraft, today: dt.date) -> None:
    if draft.effective_on > today + dt.timedelta(days=366):
        raise ValidationFailed("effective_on is more than a year ahead", code="effective_date_out_of_range")
    if draft.effective_on < dt.date(2000, 1, 1):
        raise ValidationFailed("effective_on is before 2000", code="effective_date_out_of_range")


async def add_record(
    draft: RecordDraft,
    *,
    catalogue: Catalogue,
    actor: str,
    now: dt.datetime,
    needs_review: bool,
    source_event_id: str | None = None,
) -> CreditRecord:
    """Create one record; a duplicate (same event, or same subject+type+document) is a Conflict."""
    record_type = catalogue.record_type(draft.record_type)
    _check_dates(draft, local_day(now))
    expires_on = catalogue.expiry(record_type, draft.effective_on, penalty_months=draft.penalty_months)
    try:
        async with in_transaction():
            await ensure_subject(draft.subject_kind, draft.subject_id, draft.subject_name)
            record = await _create_record(
                draft,
                record_type=record_type,
                expires_on=expires_on,
                actor=actor,
                now=now,
                needs_review=needs_review,
                source_event_id=source_event_id,
            )
            await audit(
                actor,
                "add_record",
                now=now,
                record_id=record.id,
                detail={
                    "record_type": record_type.key,
                    "points": record_type.points,
                    "event_id": source_event_id,
                },
            )
    except IntegrityError as error:
        raise Conflict("this record already exists", code="duplicate_record") from error
    return record


async def _create_record(
    draft: RecordDraft,
    *,
    record_type: RecordType,
    expires_on: dt.date,
    actor: str,
    now: dt.datetime,
    needs_review: bool,
    source_event_id: str | None,
) -> CreditRecord:
    """A record waiting for review, or one effective at once with ``actor`` as its reviewer."""
    return await CreditRecord.create(
        subject_kind=draft.subject_kind,
        subject_id=draft.subject_id,
        record_type=record_type.key,
        category=record_type.category,
        points=record_type.points,
        effective_on=draft.effective_on,
        expires_on=expires_on,
        penalty_months=draft.penalty_months,
        status=RecordStatus.PENDING if needs_review else RecordStatus.EFFECTIVE,
        approved_on=None if needs_review else local_day(now),
        project_code=draft.project_code,
        source_ref=draft.source_ref,
        source_event_id=source_event_id,
        summary=draft.summary,
        created_by=actor,
        reviewed_by="" if needs_review else actor,
        reviewed_at=None if needs_review else now,
    )


async def import_records(
    rows: list[list[str]], *, catalogue: Catalogue, actor: str, now: dt.datetime
) -> tuple[list[int], list[Rejection]]:
    """Validate every row, create the good ones as pending, and report each rejected row with why."""
    drafts, rejections = tabular.drafts_from_rows(rows, catalogue)
    created: list[int] = []
    for line, draft in drafts:
        try:
            record = await add_record(draft, catalogue=catalogue, actor=actor, now=now, needs_review=True)
        except (ValidationFailed, Conflict) as error:
            rejections.append(Rejection(line, (error.message,)))
            continue
        created.append(record.id)
    await audit(actor, "import", now=now, detail={"created": len(created), "rejected": len(rejections)})
    return created, sorted(rejections, key=lambda r: r.row)


async def _record(record_id: int) -> CreditRecord:
    record = await CreditRecord.filter(id=record_id).first()
    if record is None:
        raise NotFound(f"no credit record {record_id}", code="credit_record_not_found")
    return record


async def review_record(
    record_id: int, *, action: RecordAction, actor: str, note: str = "", now: dt.datetime
) -> CreditRecord:
    """Approve (it counts from today) or reject a pending record."""
    if action is RecordAction.REVOKE:
        raise ValidationFailed("records are revoked by upholding an appeal", code="invalid_review_decision")
    record = await _record(record_id)
    target = next_record_status(record.status, action)
    changes: dict[str, Any] = {"status": target, "reviewed_by": actor, "reviewed_at": now}
    if target is RecordStatus.EFFECTIVE:
        changes["approved_on"] = local_day(now)
    async with in_transaction():
        updated = await CreditRecord.filter(id=record_id, status=record.status).update(**changes)
        if not updated:
            raise Conflict(
                "the record was decided by someone else meanwhile", code="invalid_record_transition"
            )
        await audit(
            actor,
            f"review_{action.value}",
            now=now,
            record_id=record_id,
            detail={"note": note[:500]},
            note=note,
        )
    return await _record(record_id)


async def ensure_appealable(record_id: int, *, enterprise_uscc: str) -> None:
    """The record exists, belongs to this enterprise, deducts points and still stands."""
    record = await CreditRecord.filter(id=record_id).first()
    if (
        record is None
        or record.subject_kind is not SubjectKind.ENTERPRISE
        or record.subject_id != enterprise_uscc
    ):
        # Someone else's record looks exactly like a missing one: no probing of other files.
        raise NotFound(f"no credit record {record_id} of your enterprise", code="credit_record_not_found")
    if record.points >= 0:
        raise ValidationFailed("only records that deduct points can be appealed", code="appeal_not_allowed")
    if record.status not in (RecordStatus.PENDING, RecordStatus.EFFECTIVE):
        raise Conflict(f"a {record.status.value} record cannot be appealed", code="appeal_not_allowed")


async def file_appeal(
    record_id: int,
    *,
    enterprise_uscc: str,
    actor: str,
    reason: str,
    attachments: list[str],
    now: dt.datetime,
) -> CreditAppeal:
    """An enterprise appeals one of its own bad records; one open appeal per record at a time."""
    await ensure_appealable(record_id, enterprise_uscc=enterprise_uscc)
    reason = reason.strip()
    if not 5 <= len(reason) <= MAX_REASON:
        raise ValidationFailed(f"the reason needs 5 to {MAX_REASON} characters", code="invalid_appeal_reason")
    if len(attachments) > MAX_ATTACHMENTS:
        raise ValidationFailed(f"at most {MAX_ATTACHMENTS} attachments", code="too_many_attachments")
    async with in_transaction():
        if await CreditAppeal.filter(record_id=record_id, status=AppealStatus.FILED).exists():
            raise Conflict("an appeal on this record is already open", code="appeal_already_open")
        appeal = await CreditAppeal.create(
            record_id=record_id,
            status=AppealStatus.FILED,
            filed_by=actor,
            reason=reason,
            attachments=attachments,
            filed_at=now,
        )
        await audit(
            actor,
            "file_appeal",
            now=now,
            record_id=record_id,
            appeal_id=appeal.id,
            detail={"attachments": attachments},
            note=reason,
            file_refs=attachments,
        )
    return appeal


async def decide_appeal(
    appeal_id: int, *, action: AppealAction, actor: str, note: str = "", now: dt.datetime
) -> CreditAppeal:
    """Upheld: the record is revoked from today (or rejected if still pending). Dismissed: it stands."""
    appeal = await CreditAppeal.filter(id=appeal_id).first()
    if appeal is None:
        raise NotFound(f"no appeal {appeal_id}", code="credit_appeal_not_found")
    target = next_appeal_status(appeal.status, action)
    async with in_transaction():
        updated = await CreditAppeal.filter(id=appeal_id, status=appeal.status).update(
            status=target, decided_by=actor, decided_at=now, decision_note=note[:2000]
        )
        if not updated:
            raise Conflict(
                "the appeal was decided by someone else meanwhile", code="invalid_appeal_transition"
            )
        await audit(
            actor,
            f"appeal_{action.value}",
            now=now,
            record_id=appeal.record_id,
            appeal_id=appeal_id,
            detail={"note": note[:500]},
            note=note,
        )
        if target is AppealStatus.UPHELD:
            await _void_record(appeal.record_id, actor=actor, now=now)
    appeal.status = target
    return appeal


async def _void_record(record_id: int, *, actor: str, now: dt.datetime) -> None:
    record = await _record(record_id)
    if record.status is RecordStatus.PENDING:
        target = next_record_status(record.status, RecordAction.REJECT)
        changes: dict[str, Any] = {"status": target, "reviewed_by": actor, "reviewed_at": now}
    else:
        target = next_record_status(record.status, RecordAction.REVOKE)
        changes = {"status": target, "revoked_on": local_day(now)}
    await CreditRecord.filter(id=record_id, status=record.status).update(**changes)
    await audit(actor, "revoke_record", now=now, record_id=record_id, detail={"status": target.value})
