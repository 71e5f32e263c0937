"""Tortoise models of the evidence context.

``evidence_entry`` holds every leaf once (unique ``event_id``: a redelivered event is one leaf); the
sequencer gives it ``leaf_index``. ``evidence_node`` holds every complete subtree hash, keyed by
``node_key(level, index)``, so proofs and tiles read O(log n) rows. ``evidence_tree`` is the single
row the sequencer locks; ``evidence_checkpoint`` the signed notes; ``evidence_seen`` the monitor's
memory of the checkpoints it has checked.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

LEVEL_SHIFT = 56  # indices stay below 2**56; levels below 64, so the key fits a signed BIGINT


def node_key(level: int, index: int) -> int:
    return (level << LEVEL_SHIFT) | index


class EvidenceEntry(Model):
    id = fields.BigIntField(primary_key=True)
    event_id = fields.CharField(max_length=120, unique=True)
    kind = fields.CharField(max_length=24)
    ref = fields.CharField(max_length=64)
    action = fields.CharField(max_length=32)
    data = fields.BinaryField()
    leaf_index = fields.BigIntField(null=True, unique=True)
    created_at = fields.DatetimeField()
    sequenced_at = fields.DatetimeField(null=True)

    class Meta:
        table = "evidence_entry"
        indexes = (("kind", "ref"),)


class EvidenceNode(Model):
    id = fields.BigIntField(primary_key=True, generated=False, description="node_key(level, index)")
    hash = fields.BinaryField()

    class Meta:
        table = "evidence_node"


class EvidenceTree(Model):
    id = fields.IntField(primary_key=True, generated=False)
    size = fields.BigIntField(default=0)
    root = fields.BinaryField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "evidence_tree"


class EvidenceCheckpoint(Model):
    id = fields.IntField(primary_key=True)
    tree_size = fields.BigIntField(unique=True)
    root = fields.BinaryField()
    note = fields.TextField()
    signed_at = fields.DatetimeField()

    class Meta:
        table = "evidence_checkpoint"


class EvidenceSeen(Model):
    """A checkpoint the monitor has checked, and what it concluded."""

    id = fields.IntField(primary_key=True)
    origin = fields.CharField(max_length=120)
    tree_size = fields.BigIntField()
    root = fields.BinaryField()
    note = fields.TextField()
    verdict = fields.CharField(max_length=16)
    seen_at = fields.DatetimeField()

    class Meta:
        table = "evidence_seen"
        indexes = (("origin", "tree_size"),)
