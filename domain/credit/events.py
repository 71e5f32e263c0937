"""The credit context's event consumer: upheld complaints and confirmed violations become records.

Delivery is at-least-once, so a record is keyed by the event's id (a unique column): the same event
twice gives one record. A malformed event is logged and acknowledged (retrying cannot fix it); a
failure such as a database outage leaves the message pending, to be claimed again later.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
from typing import Any, Protocol

from domain.credit import services
from domain.credit.catalogue import Catalogue
from domain.credit.models import CreditRecord
from domain.credit.rules import SubjectKind
from domain.credit.tabular import RecordDraft
from domain.errors import Conflict, DomainError, NotFound, ValidationFailed
from domain.events import DomainEvent, stream_of
from domain.ports import BusMessage, EventBus
from domain.projects import services as projects
from domain.projects.rules import normalise_project_code

log = logging.getLogger(__name__)

CONSUMER_GROUP = "credit"
CONSUMED_EVENTS = ("ComplaintUpheld", "ViolationConfirmed")
SYSTEM_ACTOR = "system:events"
STALE_AFTER_S = 60.0


class _HasBus(Protocol):
    @property
    def bus(self) -> EventBus: ...


class CreditRuntime(Protocol):
    """What the consumer needs from the composition root's runtime."""

    @property
    def infra(self) -> _HasBus: ...


def _project_code(payload: dict[str, Any]) -> str:
    code = str(payload.get("project_code") or "")
    if not code:
        # Site codes are the project code plus "-S<n>" (WL-2026-0031-S1).
        site_code = str(payload.get("site_code") or "")
        code = site_code.rsplit("-S", 1)[0] if "-S" in site_code else ""
    return normalise_project_code(code)


def _event_day(payload: dict[str, Any], received: dt.datetime) -> dt.date:
    raw = payload.get("at")
    if not raw:
        return services.local_day(received)
    try:
        at = dt.datetime.fromisoformat(str(raw))
    except ValueError as error:
        raise ValidationFailed(f"event time {raw!r} is not ISO 8601", code="invalid_event") from error
    return services.local_day(at if at.tzinfo else at.replace(tzinfo=dt.UTC))


def _source_ref(event: DomainEvent) -> str:
    payload = event.payload
    if event.name == "ComplaintUpheld":
        return f"投诉工单 {payload.get('ticket_id', '?')}"
    return f"告警 {payload.get('alarm_id', '?')}（{payload.get('alarm_type', '')}）"


async def _responsible(project_code: str) -> tuple[SubjectKind, str, str]:
    """The contractor answers for its site; a project without one carries the record itself."""
    try:
        details = await projects.project_details(project_code)
    except NotFound:
        return SubjectKind.PROJECT, project_code, project_code
    contractor = details.get("enterprises", {}).get("contractor")
    if contractor:
        return SubjectKind.ENTERPRISE, str(contractor["uscc"]), str(contractor["name"])
    return SubjectKind.PROJECT, project_code, str(details.get("name") or project_code)


async def handle_event(event: DomainEvent, *, catalogue: Catalogue, now: dt.datetime) -> int | None:
    """Turn one event into one record; returns its id (the existing one for a repeat), None if ignored."""
    rule = catalogue.events.get(event.name)
    if rule is None:
        return None
    existing = await CreditRecord.filter(source_event_id=event.event_id).first()
    if existing is not None:
        return existing.id
    payload = dict(event.payload)
    project_code = _project_code(payload)
    kind, subject_id, name = await _responsible(project_code)
    draft = RecordDraft(
        subject_kind=kind,
        subject_id=subject_id,
        subject_name=name,
        record_type=rule.record_type,
        effective_on=_event_day(payload, now),
        source_ref=_source_ref(event)[:120],
        project_code=project_code,
        summary=f"{event.name} {event.event_id}",
    )
    try:
        record = await services.add_record(
            draft,
            catalogue=catalogue,
            actor=SYSTEM_ACTOR,
            now=now,
            needs_review=rule.needs_review,
            source_event_id=event.event_id,
        )
    except Conflict:
        # A concurrent consumer won the race, or the same document was already recorded by hand.
        found = await CreditRecord.filter(source_event_id=event.event_id).first()
        if found is None:
            log.info("credit skips %s %s: the same document is already on file", event.name, event.event_id)
        return found.id if found else None
    log.info("credit record %s from %s %s", record.id, event.name, event.event_id)
    return record.id


async def _process(bus: EventBus, messages: list[BusMessage], *, catalogue: Catalogue) -> int:
    handled = 0
    for message in messages:
        try:
            event = DomainEvent.from_message(message)
            await handle_event(event, catalogue=catalogue, now=dt.datetime.now(dt.UTC))
        except (DomainError, KeyError, ValueError) as error:
            # Poison message: retrying cannot fix it, so it is logged and acknowledged.
            log.warning(
                "credit ignores malformed message %s on %s: %s", message.message_id, message.stream, error
            )
        await bus.ack(message.stream, CONSUMER_GROUP, [message.message_id])
        handled += 1
    return handled


async def ensure_groups(bus: EventBus) -> None:
    for name in CONSUMED_EVENTS:
        await bus.ensure_group(stream_of(name), CONSUMER_GROUP)


async def consume_once(bus: EventBus, *, consumer: str, catalogue: Catalogue, block_ms: int = 0) -> int:
    """One pass over every consumed stream: stale messages of crashed consumers first, then new ones."""
    handled = 0
    for name in CONSUMED_EVENTS:
        stream = stream_of(name)
        stale = await bus.claim_stale(stream, CONSUMER_GROUP, consumer, min_idle_s=STALE_AFTER_S)
        handled += await _process(bus, stale, catalogue=catalogue)
        fresh = await bus.read(stream, CONSUMER_GROUP, consumer, count=50, block_ms=block_ms)
        handled += await _process(bus, fresh, catalogue=catalogue)
    return handled


async def run_credit_consumer(runtime: CreditRuntime) -> None:
    """The background worker: runs until cancelled."""
    bus = runtime.infra.bus
    catalogue = services.rule_catalogue()
    consumer = f"{socket.gethostname()}-{os.getpid()}"
    await ensure_groups(bus)
    log.info("credit consumer %s started on %s", consumer, ", ".join(CONSUMED_EVENTS))
    while True:
        try:
            await consume_once(bus, consumer=consumer, catalogue=catalogue, block_ms=1000)
        except Exception:
            # Unacknowledged messages stay pending and are claimed again after STALE_AFTER_S.
            log.exception("credit consumer pass failed; retrying in 5 s")
            await asyncio.sleep(5)
