"""Evidence for business records: packages for download, and the audit that recomputes leaves from
the business rows and original files and lists every mismatch."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from domain.alerts import services as alerts
from domain.credit.models import CreditRecord
from domain.errors import Conflict, NotFound
from domain.evidence import merkle, services
from domain.evidence.events import MediaReader
from domain.evidence.models import EvidenceEntry
from domain.evidence.notes import Verifier
from domain.evidence.package import build_package
from domain.evidence.rules import parse_leaf
from domain.iot import sealing

log = logging.getLogger(__name__)
AUDIT_PAGE = 500
# Facts of an alarm that never change after it is raised: a leaf that disagrees means an edited row.
ALARM_IDENTITY = ("site_code", "alarm_type", "source")
# Facts of a credit record that no later step may change (an appeal revokes, it never re-scores).
CREDIT_IDENTITY = ("subject_kind", "subject_id", "record_type", "points", "effective_on")


async def _entry_for(kind: str, ref: str, leaf_index: int | None) -> EvidenceEntry:
    query = EvidenceEntry.filter(kind=kind, ref=ref, leaf_index__isnull=False)
    if leaf_index is not None:
        query = query.filter(leaf_index=leaf_index)
    entry = await query.order_by("-leaf_index").first()
    if entry is None or entry.leaf_index is None:
        raise NotFound(f"no logged evidence for {kind} {ref}", code="evidence_not_found")
    return entry


async def _files(leaf: dict[str, Any], media: MediaReader) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for item in leaf.get("files", []):
        ref = str(item.get("ref", ""))
        try:
            found[ref] = await media.get(ref)
        except NotFound:
            log.warning("evidence package: file %s is missing from the media store", ref)
    return found


async def package_for(
    kind: str, ref: str, *, media: MediaReader, verifier: Verifier, leaf_index: int | None = None
) -> tuple[int, bytes]:
    """``(leaf_index, zip bytes)`` for the record's latest (or the given) leaf under the latest checkpoint."""
    entry = await _entry_for(kind, ref, leaf_index)
    checkpoint = await services.latest_checkpoint()
    index = int(entry.leaf_index or 0)
    if index >= checkpoint.tree_size:
        raise Conflict(
            "the entry is logged but no checkpoint covers it yet; try again shortly", code="evidence_pending"
        )
    leaf = bytes(entry.data)
    proof = await services.inclusion_proof(leaf_index=index, tree_size=checkpoint.tree_size)
    package = build_package(
        leaf=leaf,
        leaf_index=index,
        tree_size=checkpoint.tree_size,
        proof=proof,
        checkpoint_note=checkpoint.note,
        vkey=verifier.vkey,
        files=await _files(parse_leaf(leaf), media),
    )
    return index, package


@dataclass(frozen=True, slots=True)
class Mismatch:
    leaf_index: int
    kind: str
    ref: str
    problem: str


async def _file_problems(leaf: dict[str, Any], media: MediaReader) -> list[str]:
    problems = []
    for item in leaf.get("files", []):
        ref, expected = str(item.get("ref", "")), str(item.get("sha256", ""))
        if not expected:
            continue
        try:
            actual = hashlib.sha256(await media.get(ref)).hexdigest()
        except NotFound:
            problems.append(f"file {ref} is gone from the media store")
            continue
        if actual != expected:
            problems.append(f"file {ref} was replaced (SHA-256 {actual[:12]}…, logged {expected[:12]}…)")
    return problems


def _differences(what: str, row: dict[str, Any], logged: dict[str, Any], names: tuple[str, ...]) -> list[str]:
    return [
        f"{what} {name} is {row.get(name)!r}, logged {logged.get(name)!r}"
        for name in names
        if name in logged and row.get(name) != logged[name]
    ]


async def _credit_problems(record_id: int, logged: dict[str, Any]) -> list[str]:
    record = await CreditRecord.filter(id=record_id).first()
    if record is None:
        return ["the credit record row is gone"]
    row = {
        "subject_kind": record.subject_kind.value,
        "subject_id": record.subject_id,
        "record_type": record.record_type,
        "points": record.points,
        "effective_on": record.effective_on.isoformat(),
    }
    return _differences("credit record", row, logged, CREDIT_IDENTITY)


async def _readings_problems(logged: dict[str, Any], kept_since: dt.datetime | None) -> list[str]:
    hour = dt.datetime.fromisoformat(str(logged.get("hour")))
    if kept_since is not None and hour < kept_since:
        return []  # purged by the raw-frame retention: nothing left to compare
    now = await sealing.hour_digest(str(logged.get("mn")), hour)
    if now.count == logged.get("count") and now.sha256 == logged.get("sha256"):
        return []
    return [
        f"raw frames of {logged.get('mn')} in hour {hour:%Y-%m-%d %H}:00 UTC changed: "
        f"{now.count} frame(s) hashing to {now.sha256[:12]}…, logged {logged.get('count')} "
        f"hashing to {str(logged.get('sha256'))[:12]}…"
    ]


async def _row_problems(leaf: dict[str, Any], kept_since: dt.datetime | None = None) -> list[str]:
    if leaf.get("kind") == "readings":
        return await _readings_problems(leaf.get("record", {}), kept_since)
    if not str(leaf.get("ref", "")).isdigit():
        return []
    if leaf.get("kind") == "credit":
        return await _credit_problems(int(leaf["ref"]), leaf.get("record", {}))
    if leaf.get("kind") != "alarm":
        return []
    try:
        alarm = await alerts.alarm_detail(int(leaf["ref"]))
    except NotFound:
        return ["the alarm row is gone"]
    return _differences("alarm", alarm, leaf.get("record", {}), ALARM_IDENTITY)


async def _entry_problems(
    entry: EvidenceEntry, stored_leaf: bytes | None, media: MediaReader, kept_since: dt.datetime | None
) -> list[str]:
    data = bytes(entry.data)
    if stored_leaf != merkle.leaf_hash(data):
        return ["the stored leaf no longer hashes to the tree's leaf hash"]
    leaf = parse_leaf(data)
    return [*await _file_problems(leaf, media), *await _row_problems(leaf, kept_since)]


async def audit(
    *, media: MediaReader, start: int = 0, raw_frames_kept_since: dt.datetime | None = None
) -> list[Mismatch]:
    """Every sequenced leaf from ``start`` on, recomputed from the rows and files it vouches for.

    Sealed hours older than ``raw_frames_kept_since`` (the raw-frame retention) are not compared:
    their frames were dropped by design."""
    mismatches: list[Mismatch] = []
    position = start
    while True:
        page = await EvidenceEntry.filter(leaf_index__gte=position).order_by("leaf_index").limit(AUDIT_PAGE)
        if not page:
            return mismatches
        leaves = await services.stored_nodes((0, int(e.leaf_index or 0)) for e in page)
        for entry in page:
            index = int(entry.leaf_index or 0)
            for problem in await _entry_problems(entry, leaves.get((0, index)), media, raw_frames_kept_since):
                mismatches.append(Mismatch(index, entry.kind, entry.ref, problem))
        position = int(page[-1].leaf_index or 0) + 1
