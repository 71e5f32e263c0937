"""The log's use cases on the database: add entries, sequence them into the tree, sign checkpoints,
and serve entries, proofs, lookups and tiles from the stored nodes (never rebuilding the tree).

Sequencing is single-writer: it locks the one ``evidence_tree`` row, so two sequencers (two
processes) take turns and never give two leaves the same index.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.errors import NotFound, ValidationFailed
from domain.evidence import merkle
from domain.evidence.merkle import Node
from domain.evidence.models import (
    LEVEL_SHIFT,
    EvidenceCheckpoint,
    EvidenceEntry,
    EvidenceNode,
    EvidenceTree,
    node_key,
)
from domain.evidence.notes import Checkpoint, Signer, sign_note
from domain.evidence.rules import TILE_HEIGHT, TILE_WIDTH, EvidenceStatus, entry_bundle, evidence_status

log = logging.getLogger(__name__)
TREE_ROW = 1
MAX_LEAF_BYTES = 65_535  # tile entry bundles prefix each leaf with a uint16 length
_INDEX_MASK = (1 << LEVEL_SHIFT) - 1


async def add_entry(*, event_id: str, kind: str, ref: str, action: str, data: bytes, now: dt.datetime) -> int:
    """Store a leaf waiting for its index; the same ``event_id`` again returns the first entry's id."""
    if len(data) > MAX_LEAF_BYTES:
        raise ValidationFailed("an evidence leaf is limited to 65535 bytes", code="leaf_too_large")
    existing = await EvidenceEntry.filter(event_id=event_id).first()
    if existing is not None:
        return int(existing.id)
    try:
        entry = await EvidenceEntry.create(
            event_id=event_id, kind=kind, ref=ref, action=action, data=data, created_at=now
        )
    except IntegrityError:
        found = await EvidenceEntry.get(event_id=event_id)  # a concurrent delivery won
        return int(found.id)
    return int(entry.id)


async def stored_nodes(nodes: Iterable[Node]) -> dict[Node, bytes]:
    keys = [node_key(level, index) for level, index in nodes]
    if not keys:
        return {}
    rows = await EvidenceNode.filter(id__in=keys).values_list("id", "hash")
    return {(key >> LEVEL_SHIFT, key & _INDEX_MASK): bytes(hash_) for key, hash_ in rows}


async def _ensure_tree(now: dt.datetime) -> None:
    if await EvidenceTree.exists(id=TREE_ROW):
        return
    try:
        await EvidenceTree.create(id=TREE_ROW, size=0, root=merkle.EMPTY_ROOT, updated_at=now)
    except IntegrityError:
        log.debug("another process created the evidence tree row first")


async def tree_head() -> tuple[int, bytes]:
    tree = await EvidenceTree.filter(id=TREE_ROW).first()
    return (tree.size, bytes(tree.root)) if tree else (0, merkle.EMPTY_ROOT)


async def sequence_pending(*, batch_size: int, now: dt.datetime) -> int:
    """Give the oldest waiting entries the next leaf indices and store the nodes they complete."""
    await _ensure_tree(now)
    async with in_transaction():
        tree = await EvidenceTree.select_for_update().get(id=TREE_ROW)
        pending = await EvidenceEntry.filter(leaf_index__isnull=True).order_by("id").limit(batch_size)
        if not pending:
            return 0
        frontier = merkle.Frontier.of(tree.size, await stored_nodes(merkle.range_nodes(0, tree.size)))
        created: list[EvidenceNode] = []
        for entry in pending:
            entry.leaf_index = frontier.size
            entry.sequenced_at = now
            created += [
                EvidenceNode(id=node_key(level, index), hash=hash_)
                for level, index, hash_ in frontier.append(merkle.leaf_hash(bytes(entry.data)))
            ]
        await EvidenceNode.bulk_create(created)
        await EvidenceEntry.bulk_update(pending, fields=["leaf_index", "sequenced_at"])
        tree.size, tree.root, tree.updated_at = frontier.size, frontier.root(), now
        await tree.save(update_fields=["size", "root", "updated_at"])
    log.info("evidence log sequenced %s entries; size is now %s", len(pending), frontier.size)
    return len(pending)


async def sign_checkpoint(*, signer: Signer, origin: str, now: dt.datetime) -> EvidenceCheckpoint:
    """A signed checkpoint of the current tree; the latest one again when the tree has not grown."""
    await _ensure_tree(now)
    size, root = await tree_head()
    latest = await EvidenceCheckpoint.all().order_by("-tree_size").first()
    if latest is not None and latest.tree_size >= size:
        return latest
    note = sign_note(Checkpoint(origin, size, root).text(), signer)
    try:
        return await EvidenceCheckpoint.create(tree_size=size, root=root, note=note, signed_at=now)
    except IntegrityError:
        return await EvidenceCheckpoint.get(tree_size=size)


async def signed_head() -> tuple[int, bytes]:
    """Size and root of the latest checkpoint (``(-1, b"")`` before the first one)."""
    latest = await EvidenceCheckpoint.all().order_by("-tree_size").first()
    return (latest.tree_size, bytes(latest.root)) if latest else (-1, b"")


async def latest_checkpoint() -> EvidenceCheckpoint:
    latest = await EvidenceCheckpoint.all().order_by("-tree_size").first()
    if latest is None:
        raise NotFound("the log has not signed a checkpoint yet", code="no_checkpoint")
    return latest


async def _check_size(size: int, *, what: str) -> None:
    current, _root = await tree_head()
    if size > current:
        raise ValidationFailed(f"{what} {size} is beyond the tree size {current}", code="beyond_tree_size")


async def root_at(size: int) -> bytes:
    await _check_size(size, what="size")
    nodes = merkle.range_nodes(0, size)
    stored = await stored_nodes(nodes)
    return merkle.fold([stored[node] for node in nodes])


async def inclusion_proof(*, leaf_index: int, tree_size: int) -> list[bytes]:
    if not 0 <= leaf_index < tree_size:
        raise ValidationFailed("leaf_index must be below tree_size", code="invalid_proof_range")
    await _check_size(tree_size, what="tree_size")
    ranges = merkle.inclusion_ranges(leaf_index, tree_size)
    return merkle.hashes_for(ranges, await stored_nodes(merkle.nodes_for(ranges)))


async def consistency_proof(*, first: int, second: int) -> list[bytes]:
    if not 0 <= first <= second:
        raise ValidationFailed("first must be between 0 and second", code="invalid_proof_range")
    await _check_size(second, what="second")
    ranges = merkle.consistency_ranges(first, second)
    return merkle.hashes_for(ranges, await stored_nodes(merkle.nodes_for(ranges)))


async def entry_at(leaf_index: int) -> EvidenceEntry:
    entry = await EvidenceEntry.filter(leaf_index=leaf_index).first() if leaf_index >= 0 else None
    if entry is None:
        raise NotFound(f"no entry {leaf_index}", code="entry_not_found")
    return entry


async def lookup(kind: str, ref: str) -> list[int]:
    rows = await EvidenceEntry.filter(kind=kind, ref=ref, leaf_index__isnull=False).order_by("leaf_index")
    return [row.leaf_index for row in rows if row.leaf_index is not None]


async def record_status(kind: str, ref: str) -> dict[str, Any]:
    """The evidence status shown next to a business record, with each of its entries."""
    entries = await EvidenceEntry.filter(kind=kind, ref=ref).order_by("id")
    latest = await EvidenceCheckpoint.all().order_by("-tree_size").first()
    checkpoint_size = latest.tree_size if latest else None
    rows = [
        {
            "leaf_index": entry.leaf_index,
            "action": entry.action,
            "status": evidence_status(leaf_index=entry.leaf_index, checkpoint_size=checkpoint_size).value,
        }
        for entry in entries
    ]
    overall = rows[-1]["status"] if rows else EvidenceStatus.NONE.value
    return {"kind": kind, "ref": ref, "status": overall, "entries": rows}


async def tile(*, level: int, index: int, width: int) -> bytes:
    """A C2SP tlog-tiles hash tile: ``width`` hashes of tree level ``8 * level`` from ``index * 256``."""
    size, _root = await tree_head()
    height = level * TILE_HEIGHT
    start = index * TILE_WIDTH
    if height >= 63 or start + width > size >> height:
        raise NotFound("no such tile yet", code="tile_not_found")
    nodes = [(height, start + offset) for offset in range(width)]
    stored = await stored_nodes(nodes)
    return b"".join(stored[node] for node in nodes)


async def entries_tile(*, index: int, width: int) -> bytes:
    size, _root = await tree_head()
    start = index * TILE_WIDTH
    if start + width > size:
        raise NotFound("no such entry bundle yet", code="tile_not_found")
    rows = await EvidenceEntry.filter(leaf_index__gte=start, leaf_index__lt=start + width).order_by(
        "leaf_index"
    )
    return entry_bundle([bytes(row.data) for row in rows])
