"""Inbound feeds: partner keys, request authentication, and audited, idempotent batch ingestion.

A batch is identified by the sender's batch id: the same id with the same body is answered with the
first result (a retry after a lost response), the same id with another body is refused. Rows are
validated one by one: good rows are upserted by their key fields, bad ones are listed with reasons.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain import policies
from domain.credit.rules import SubjectKind
from domain.credit.services import add_record, rule_catalogue
from domain.credit.tabular import RecordDraft
from domain.errors import Conflict, DomainError, Forbidden, NotFound, Unauthorized, ValidationFailed
from domain.exchange.models import FeedBatch, FeedRecord, Partner
from domain.exchange.rules import (
    ExchangeConfig,
    FeedSpec,
    content_hash,
    new_sealed_reference,
    record_key,
    signature_ok,
    timestamp_ok,
    unseal,
    validate_row,
)

log = logging.getLogger(__name__)


def exchange_config() -> ExchangeConfig:
    """The deployed ``config/feeds.yml``."""
    return policies.current().exchange


def feed_of(config: ExchangeConfig, key: str) -> FeedSpec:
    feed = config.feeds.get(key)
    if feed is None:
        raise NotFound(f"no feed {key[:40]}", code="feed_not_found")
    return feed


async def issue_partner(
    department: str, *, actor: str, now: dt.datetime, master_key: bytes
) -> tuple[str, str]:
    """A new key for a department: (key id, secret). The secret is shown to the caller once and is
    not stored (see ``rules.unseal``)."""
    key_id = "pk_" + secrets.token_hex(8)
    reference = new_sealed_reference()
    await Partner.create(
        key_id=key_id, department=department, secret=reference, created_by=actor, created_at=now
    )
    log.info("issued exchange key %s for %s", key_id, department)
    return key_id, unseal(reference, master_key=master_key)


async def authenticate(
    *,
    key_id: str,
    timestamp: str,
    signature: str,
    body: bytes,
    now: dt.datetime,
    tolerance_s: int,
    master_key: bytes,
) -> Partner:
    """The partner whose key signed this body at a fresh timestamp; otherwise 401 with a stable code."""
    partner = await Partner.filter(key_id=key_id[:32], active=True).first() if key_id else None
    if partner is None:
        raise Unauthorized("unknown or revoked API key", code="unknown_api_key")
    if not timestamp_ok(timestamp, now=now, tolerance_s=tolerance_s):
        raise Unauthorized(f"timestamp missing or more than {tolerance_s} s off", code="stale_timestamp")
    secret = unseal(partner.secret, master_key=master_key)
    if not signature or not signature_ok(secret, timestamp, body, signature[:128]):
        raise Unauthorized("signature does not match", code="bad_signature")
    return partner


def batch_report(batch: FeedBatch, *, duplicate: bool = False) -> dict[str, Any]:
    return {
        "batch_id": batch.id,
        "feed": batch.feed,
        "batch_ref": batch.batch_ref,
        "channel": batch.channel,
        "received_at": batch.received_at.isoformat(),
        "total": batch.total,
        "accepted": batch.created + batch.updated + batch.unchanged,
        "created": batch.created,
        "updated": batch.updated,
        "unchanged": batch.unchanged,
        "rejected": batch.rejected,
        "credit_records": batch.credit_records,
        "rejections": batch.rejections,
        "duplicate": duplicate,
    }


async def _existing(feed: FeedSpec, department: str, batch_ref: str, body_sha256: str) -> FeedBatch | None:
    batch = await FeedBatch.filter(department=department, feed=feed.key, batch_ref=batch_ref).first()
    if batch is not None and batch.body_sha256 != body_sha256:
        raise Conflict("this batch id was already used for a different body", code="batch_id_reused")
    return batch


def _check_shape(records: Any, config: ExchangeConfig) -> list[Any]:
    if not isinstance(records, list):
        raise ValidationFailed('the body must be {"records": [...]}', code="invalid_schema")
    if not records:
        raise ValidationFailed("the batch has no records", code="invalid_schema")
    if len(records) > config.max_records_per_batch:
        raise ValidationFailed(
            f"at most {config.max_records_per_batch} records per batch", code="batch_too_large"
        )
    return records


async def ingest(
    feed: FeedSpec,
    records: Any,
    *,
    config: ExchangeConfig,
    department: str,
    actor: str,
    batch_ref: str,
    channel: str,
    body_sha256: str,
    now: dt.datetime,
) -> dict[str, Any]:
    if department not in feed.departments:
        raise Forbidden(f"{department} does not send the {feed.key} feed", code="feed_not_allowed")
    if not batch_ref or len(batch_ref) > 64 or not batch_ref.isprintable():
        raise ValidationFailed("a batch id (1-64 printable characters) is required", code="invalid_batch_id")
    done = await _existing(feed, department, batch_ref, body_sha256)
    if done is not None and done.completed_at is not None:
        return batch_report(done, duplicate=True)
    rows = _check_shape(records, config)
    batch = done or await _open_batch(
        feed,
        department=department,
        batch_ref=batch_ref,
        actor=actor,
        channel=channel,
        body_sha256=body_sha256,
        now=now,
        total=len(rows),
    )
    if batch.completed_at is not None:
        return batch_report(batch, duplicate=True)
    # A batch left incomplete (the process stopped mid-way) is applied again: upserts are idempotent.
    await _apply(feed, rows, batch=batch, department=department, now=now)
    log.info("feed %s batch %s: %s rows, %s rejected", feed.key, batch.id, batch.total, batch.rejected)
    return batch_report(batch)


async def _open_batch(
    feed: FeedSpec,
    *,
    department: str,
    batch_ref: str,
    actor: str,
    channel: str,
    body_sha256: str,
    now: dt.datetime,
    total: int,
) -> FeedBatch:
    try:
        return await FeedBatch.create(
            feed=feed.key,
            department=department,
            batch_ref=batch_ref,
            actor=actor,
            channel=channel,
            body_sha256=body_sha256,
            received_at=now,
            total=total,
        )
    except IntegrityError:
        # The same batch raced in through another request: use its row.
        raced = await _existing(feed, department, batch_ref, body_sha256)
        if raced is None:
            raise
        return raced


async def _apply(
    feed: FeedSpec, rows: list[Any], *, batch: FeedBatch, department: str, now: dt.datetime
) -> None:
    rejections: list[dict[str, Any]] = []
    for number, row in enumerate(rows, 1):
        clean, problems = validate_row(feed, row)
        key = record_key(feed, clean) if not problems else None
        if key is None:
            rejections.append({"row": number, "key": _raw_key(feed, row), "problems": problems})
            continue
        outcome = await _upsert(feed, key, clean, batch_id=batch.id, now=now)
        setattr(batch, outcome, getattr(batch, outcome) + 1)
        # Also for unchanged rows: a batch resumed after a crash may not have made its record yet
        # (add_record refuses a second record for the same decision).
        if feed.credit is not None:
            problem = await _credit(feed, key, clean, department=department, now=now)
            if problem is None:
                batch.credit_records += 1
            elif problem:
                rejections.append({"row": number, "key": key, "problems": [problem], "stored": True})
    batch.rejected = sum(1 for r in rejections if not r.get("stored"))
    batch.rejections = rejections
    batch.completed_at = now
    await batch.save()


def _raw_key(feed: FeedSpec, row: Any) -> str:
    if not isinstance(row, dict):
        return ""
    return "|".join(str(row.get(name, ""))[:60] for name in feed.key_fields)


async def _upsert(feed: FeedSpec, key: str, clean: dict[str, Any], *, batch_id: int, now: dt.datetime) -> str:
    digest = content_hash(clean)
    async with in_transaction():
        current = await FeedRecord.filter(feed=feed.key, record_key=key).select_for_update().first()
        if current is None:
            await FeedRecord.create(
                feed=feed.key,
                record_key=key,
                data=clean,
                content_hash=digest,
                first_batch_id=batch_id,
                last_batch_id=batch_id,
                created_at=now,
                updated_at=now,
            )
            return "created"
        if current.content_hash == digest:
            return "unchanged"
        await FeedRecord.filter(id=current.id).update(
            data=clean, content_hash=digest, last_batch_id=batch_id, updated_at=now
        )
        return "updated"


async def _credit(
    feed: FeedSpec, key: str, clean: dict[str, Any], *, department: str, now: dt.datetime
) -> str | None:
    """A penalty becomes a credit record through the credit rules. Returns None when one was made,
    "" when the row makes none (not a scored violation, or already recorded), else the problem."""
    mapping = feed.credit
    assert mapping is not None  # only called for feeds with a credit mapping
    record_type = mapping.record_types.get(str(clean.get(mapping.type_field, "")))
    if record_type is None:
        return ""
    draft = RecordDraft(
        subject_kind=SubjectKind.ENTERPRISE,
        subject_id=clean[mapping.subject_field],
        record_type=record_type,
        effective_on=dt.date.fromisoformat(clean[mapping.date_field]),
        source_ref=f"{feed.key}:{key}"[:120],
        subject_name=str(clean.get(mapping.name_field, "")),
        project_code=str(clean.get("project_code", "")),
        penalty_months=int(clean.get("penalty_months", 0) or 0),
        summary=f"数据交换 {feed.label}（{department}）",
    )
    try:
        await add_record(
            draft,
            catalogue=rule_catalogue(),
            actor=f"feed:{department}",
            now=now,
            needs_review=mapping.needs_review,
        )
    except Conflict:
        return ""  # the same decision arrived before (a corrected row keeps its one credit record)
    except DomainError as error:
        return f"credit: {error.message}"
    return None


async def batches(*, feed: str = "", limit: int = 50) -> list[dict[str, Any]]:
    """The audit trail of deliveries, newest first."""
    query = FeedBatch.all() if not feed else FeedBatch.filter(feed=feed)
    return [batch_report(b) for b in await query.order_by("-id").limit(limit)]


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
