"""The evidence context's event consumer and the log's background loops.

Every logged event (``rules.LEAF_RULES``) becomes one leaf, keyed by the event's id: delivery is
at-least-once, so a redelivered event finds its entry and adds nothing. Alarm leaves also carry the
SHA-256 of the alarm's evidence snapshot or resolution photo, read from the media store at the time
of logging, so a file replaced later no longer matches its leaf.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
from typing import Any, Protocol

from domain.alerts import services as alerts
from domain.errors import NotFound
from domain.events import DomainEvent, publish, run_consumer
from domain.evidence import rules, services
from domain.evidence.notes import Signer
from domain.ports import EventBus

log = logging.getLogger(__name__)
CONSUMER_GROUP = "evidence"
CHECKPOINT_SIGNED = "CheckpointSigned"


class MediaReader(Protocol):
    async def get(self, ref: str) -> bytes: ...


# Which alarm file a leaf of each action vouches for: (name in the leaf, field of the alarm).
ALARM_FILES = {
    "raised": ("evidence", "evidence_ref"),
    "violation_confirmed": ("evidence", "evidence_ref"),
    "resolved": ("resolution_photo", "resolution_photo_ref"),
}


async def digest_files(refs: list[tuple[str, str]], media: MediaReader) -> list[dict[str, str]]:
    """The SHA-256 of each named file; a file missing from the store is logged as missing ('')."""
    digests = []
    for name, ref in refs:
        try:
            digests.append(rules.file_digest(name, ref, await media.get(ref)))
        except NotFound:
            log.warning("evidence: %s file %s is missing from the media store", name, ref)
            digests.append({"name": name, "ref": ref, "sha256": ""})
    return digests


async def alarm_files(alarm_id: int, action: str) -> list[tuple[str, str]]:
    """The files an alarm leaf of this action vouches for, from the alarm as it is now."""
    wanted = ALARM_FILES.get(action)
    if wanted is None:
        return []
    try:
        alarm = await alerts.alarm_detail(alarm_id)
    except NotFound:
        return []
    ref = alarm.get(wanted[1]) or ""
    return [(wanted[0], str(ref))] if ref else []


async def files_for(kind: str, ref: str, action: str, payload: dict[str, Any]) -> list[tuple[str, str]]:
    """An alarm's files come from the alarm row; other records name theirs in ``file_refs``
    (an appeal's attachments, an application's materials)."""
    named = [("attachment", str(item)) for item in payload.get("file_refs") or [] if item]
    if kind == "alarm" and ref.isdigit():
        return [*await alarm_files(int(ref), action), *named]
    return named


async def handle_event(
    event: DomainEvent, *, media: MediaReader, salt: bytes, now: dt.datetime
) -> int | None:
    """Store the event's leaf (once); returns the entry id, or None for an event that is not logged."""
    if event.name not in rules.LEAF_RULES:
        return None
    payload: dict[str, Any] = dict(event.payload)
    kind, ref, action = rules.identify(event.name, payload)
    files = await digest_files(await files_for(kind, ref, action, payload), media)
    document = rules.leaf_document(event_name=event.name, payload=payload, files=files, salt=salt)
    return await services.add_entry(
        event_id=event.event_id, kind=kind, ref=ref, action=action, data=rules.canonical(document), now=now
    )


async def run_evidence_consumer(bus: EventBus, *, consumer: str, media: MediaReader, salt: bytes) -> None:
    async def handle(event: DomainEvent) -> int | None:
        return await handle_event(event, media=media, salt=salt, now=dt.datetime.now(dt.UTC))

    log.info("evidence consumer %s started on %s events", consumer, len(rules.LOGGED_EVENTS))
    await run_consumer(
        bus, group=CONSUMER_GROUP, consumer=consumer, event_names=rules.LOGGED_EVENTS, handle=handle
    )


def checkpoint_signed(*, origin: str, tree_size: int, root: bytes, note: str) -> DomainEvent:
    """Published for the city feed (and any witness listening): one event per tree size."""
    payload = {
        "origin": origin,
        "tree_size": tree_size,
        "root": base64.b64encode(root).decode(),
        "note": note,
    }
    return DomainEvent(CHECKPOINT_SIGNED, payload, event_id=f"checkpoint-{origin}-{tree_size}")


async def write_once(
    *, batch_size: int, signer: Signer, origin: str, sign: bool, now: dt.datetime, bus: EventBus | None = None
) -> int:
    """Sequence everything waiting (batch by batch), then sign a checkpoint when asked to; a new
    checkpoint is published as ``CheckpointSigned`` when a bus is given."""
    sequenced = 0
    while added := await services.sequence_pending(batch_size=batch_size, now=now):
        sequenced += added
    if sign:
        before, _root = await services.signed_head()
        checkpoint = await services.sign_checkpoint(signer=signer, origin=origin, now=now)
        if bus is not None and checkpoint.tree_size != before:
            event = checkpoint_signed(
                origin=origin,
                tree_size=checkpoint.tree_size,
                root=bytes(checkpoint.root),
                note=checkpoint.note,
            )
            await publish(bus, event)
    return sequenced


async def run_log_writer(
    *,
    batch_size: int,
    signer: Signer,
    origin: str,
    sequence_interval_s: float,
    checkpoint_interval_s: float,
    bus: EventBus | None = None,
) -> None:
    """Sequence every ``sequence_interval_s``; sign every ``checkpoint_interval_s`` (an entry waits at
    most about that long, plus one sequencing interval, before a checkpoint covers it)."""
    loop = asyncio.get_running_loop()
    next_signing = loop.time()
    while True:
        sign = loop.time() >= next_signing
        try:
            await write_once(
                batch_size=batch_size,
                signer=signer,
                origin=origin,
                sign=sign,
                now=dt.datetime.now(dt.UTC),
                bus=bus,
            )
            if sign:
                next_signing = loop.time() + checkpoint_interval_s
        except Exception:
            log.exception("evidence log writer pass failed; retrying")
        await asyncio.sleep(sequence_interval_s)
