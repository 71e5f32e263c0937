"""Batch ingestion at the service level: a batch interrupted mid-way is completed by the retry."""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.credit.models import CreditRecord
from domain.exchange.models import FeedBatch, FeedRecord
from domain.exchange.services import exchange_config, feed_of, ingest
from domain.projects.rules import uscc_check_char

COMPANY = "91331081MA0000301" + uscc_check_char("91331081MA0000301")
NOW = dt.datetime(2026, 10, 9, 2, 0, tzinfo=dt.UTC)
ROW = {
    "decision_no": "D-1",
    "enterprise_uscc": COMPANY,
    "enterprise_name": "丁公司",
    "violation": "dust",
    "amount_yuan": 5000,
    "decided_on": "2026-10-08",
}


async def test_interrupted_batch_is_completed_by_the_retry(database: str) -> None:
    config = exchange_config()
    feed = feed_of(config, "environmental_penalties")
    # What a crash leaves behind: the batch row and the record, but no credit record, no completion.
    batch = await FeedBatch.create(
        feed=feed.key,
        department="environment",
        batch_ref="b-9",
        actor="pk_x",
        channel="api",
        body_sha256="h",
        received_at=NOW,
        total=1,
    )
    await FeedRecord.create(
        feed=feed.key,
        record_key="D-1",
        data={},
        content_hash="old",
        first_batch_id=batch.id,
        last_batch_id=batch.id,
        created_at=NOW,
        updated_at=NOW,
    )
    args: dict[str, Any] = {
        "config": config,
        "department": "environment",
        "actor": "pk_x",
        "batch_ref": "b-9",
        "channel": "api",
        "body_sha256": "h",
        "now": NOW,
    }
    report = await ingest(feed, [ROW], **args)
    assert report["duplicate"] is False and report["updated"] == 1 and report["credit_records"] == 1
    again = await ingest(feed, [ROW], **args)
    assert again["duplicate"] is True and again["batch_id"] == batch.id
    assert await CreditRecord.filter(subject_id=COMPANY).count() == 1
    assert (await FeedBatch.get(id=batch.id)).completed_at is not None
