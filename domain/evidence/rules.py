"""Pure rules of the evidence log: canonical leaves, pseudonyms, which events become leaves, tile
paths, and an entry's evidence status.

A leaf is a versioned, sorted-key, compact UTF-8 JSON document. It names its business record by
``kind`` and ``ref`` (``alarm`` / ``201``), says what happened (``action``, ``at``), carries the
facts (``record``) and the SHA-256 of every original file (``files``). Personal identifiers never
appear in clear: they are replaced by a salted HMAC, so equal people stay equal across leaves.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.errors import ValidationFailed

LEAF_VERSION = 1
# Payload keys that may hold an openid, a phone number or a person's account name.
PERSONAL_KEYS = frozenset(
    {
        "openid",
        "phone",
        "mobile",
        "contact_phone",
        "reporter",
        "actor",
        "actor_id",
        "person_id",
        "upheld_by",
        "confirmed_by",
    }
)
TILE_WIDTH = 256
TILE_HEIGHT = 8


@dataclass(frozen=True, slots=True)
class LeafRule:
    """How one event name becomes a leaf: the record kind, the payload key of its id, the action."""

    kind: str
    ref_key: str
    action: str  # "" means: take it from the payload's ``state`` or ``status``


LEAF_RULES: dict[str, LeafRule] = {
    "AlarmRaised": LeafRule("alarm", "alarm_id", "raised"),
    "AlarmAcknowledged": LeafRule("alarm", "alarm_id", "acknowledged"),
    "AlarmClosed": LeafRule("alarm", "alarm_id", ""),
    "ViolationConfirmed": LeafRule("alarm", "alarm_id", "violation_confirmed"),
    "ComplaintUpheld": LeafRule("complaint", "ticket_id", "upheld"),
    "ComplaintRecorded": LeafRule("complaint", "ticket_id", ""),  # reply, close, refuse, rate, reopen
    "CreditRecorded": LeafRule("credit", "record_id", ""),  # added, reviewed, appealed, revoked
    "ApplicationSubmitted": LeafRule("approval", "code", "submitted"),
    "CorrectionNoticeIssued": LeafRule("approval", "code", "correction_notice"),
    "ApplicationDecided": LeafRule("approval", "code", ""),
    "ReadingsSealed": LeafRule("readings", "batch", "sealed"),  # one device's raw frames of one hour
    "IncidentReported": LeafRule("emergency", "code", "reported"),
    "IncidentUpdated": LeafRule("emergency", "code", ""),
    "IncidentDispatched": LeafRule("emergency", "code", "dispatched"),  # one per target
}
LOGGED_EVENTS = tuple(LEAF_RULES)
KINDS = frozenset(rule.kind for rule in LEAF_RULES.values())


class EvidenceStatus(StrEnum):
    """Where a record's latest leaf is: not logged, waiting for an index, in the tree, or covered by
    a signed checkpoint (only then can a package prove it)."""

    NONE = "none"
    PENDING = "pending"
    SEQUENCED = "sequenced"
    CHECKPOINTED = "checkpointed"


def evidence_status(*, leaf_index: int | None, checkpoint_size: int | None) -> EvidenceStatus:
    if leaf_index is None:
        return EvidenceStatus.PENDING
    if checkpoint_size is not None and leaf_index < checkpoint_size:
        return EvidenceStatus.CHECKPOINTED
    return EvidenceStatus.SEQUENCED


def pseudonym(value: str, *, salt: bytes) -> str:
    return "hmac:" + hmac.new(salt, value.encode(), hashlib.sha256).hexdigest()[:32]


def scrub(payload: Mapping[str, Any], *, salt: bytes) -> dict[str, Any]:
    """The payload with every personal value replaced by its pseudonym (nested mappings too)."""
    clean: dict[str, Any] = {}
    for key, value in payload.items():
        if isinstance(value, Mapping):
            clean[key] = scrub(value, salt=salt)
        elif key in PERSONAL_KEYS and isinstance(value, str) and value:
            clean[key] = pseudonym(value, salt=salt)
        else:
            clean[key] = value
    return clean


def file_digest(name: str, ref: str, data: bytes) -> dict[str, str]:
    return {"name": name, "ref": ref, "sha256": hashlib.sha256(data).hexdigest()}


def canonical(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def check_record(kind: str, ref: str) -> tuple[str, str]:
    """A business record's name as a door receives it: a logged kind and a short printable ref."""
    if kind not in KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(sorted(KINDS))}", code="invalid_kind")
    if not ref or len(ref) > 64 or any(ord(ch) < 32 for ch in ref):
        raise ValidationFailed("ref must be 1 to 64 printable characters", code="invalid_parameter")
    return kind, ref


def package_filename(kind: str, ref: str, leaf_index: int) -> str:
    return f"evidence-{kind}-{ref}-{leaf_index}.zip".replace('"', "")


def identify(event_name: str, payload: Mapping[str, Any]) -> tuple[str, str, str]:
    """``(kind, ref, action)`` of an event, or ``ValidationFailed`` for one that is not logged."""
    rule = LEAF_RULES.get(event_name)
    if rule is None:
        raise ValidationFailed(f"{event_name} is not logged as evidence", code="not_evidence")
    ref = str(payload.get(rule.ref_key) or "")
    if not ref:
        raise ValidationFailed(f"{event_name} has no {rule.ref_key}", code="invalid_event")
    action = rule.action or str(
        payload.get("action") or payload.get("state") or payload.get("status") or "updated"
    )
    return rule.kind, ref, action


def leaf_document(
    *, event_name: str, payload: Mapping[str, Any], files: list[dict[str, str]], salt: bytes
) -> dict[str, Any]:
    kind, ref, action = identify(event_name, payload)
    return {
        "v": LEAF_VERSION,
        "kind": kind,
        "ref": ref,
        "action": action,
        "event": event_name,
        "at": str(payload.get("at") or payload.get("occurred_at") or ""),
        "record": scrub(payload, salt=salt),
        "files": sorted(files, key=lambda item: (item["name"], item["ref"])),
    }


def parse_leaf(data: bytes) -> dict[str, Any]:
    try:
        document = json.loads(data.decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValidationFailed("the leaf is not UTF-8 JSON", code="invalid_leaf") from error
    if not isinstance(document, dict) or document.get("v") != LEAF_VERSION:
        raise ValidationFailed("the leaf is not a version-1 evidence document", code="invalid_leaf")
    return document


_TILE_INDEX = re.compile(r"^(?:x\d{3}/)*\d{3}$")


def tile_index_path(index: int) -> str:
    """C2SP tlog-tiles index encoding: 1234067 -> ``x001/x234/067``."""
    digits = f"{index:d}"
    digits = digits.zfill((len(digits) + 2) // 3 * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*(f"x{group}" for group in groups[:-1]), groups[-1]])


@dataclass(frozen=True, slots=True)
class TileRequest:
    level: int | None  # None: an entry bundle (``tile/entries/...``)
    index: int
    width: int  # TILE_WIDTH for a full tile


def _bad_tile(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_tile")


def parse_tile_path(path: str) -> TileRequest:
    """``<L>/<N>[.p/<W>]`` or ``entries/<N>[.p/<W>]`` (the part after ``tile/``)."""
    head, _slash, rest = path.partition("/")
    if head == "entries":
        level = None
    elif head.isdigit() and len(head) <= 2:
        level = int(head)
    else:
        raise _bad_tile("a tile path starts with a level or 'entries'")
    width = TILE_WIDTH
    index_part, partial, width_part = rest.partition(".p/")
    if partial:
        if not width_part.isdigit() or not 1 <= int(width_part) < TILE_WIDTH or width_part.startswith("0"):
            raise _bad_tile("a partial tile's width is 1 to 255")
        width = int(width_part)
    if not _TILE_INDEX.match(index_part):
        raise _bad_tile("a tile index is groups of three digits, each but the last prefixed with x")
    index = int(index_part.replace("x", "").replace("/", ""))
    if tile_index_path(index) != index_part:
        raise _bad_tile("the tile index is not in its canonical form")
    return TileRequest(level=level, index=index, width=width)


def entry_bundle(entries: list[bytes]) -> bytes:
    """Entry bundles of tlog-tiles: each entry as a big-endian uint16 length, then its bytes."""
    return b"".join(len(entry).to_bytes(2, "big") + entry for entry in entries)
