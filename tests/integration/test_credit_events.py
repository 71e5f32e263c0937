"""Events from other contexts become credit records exactly once, on the in-memory bus and on Redis."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest

from adapters import redis_ports
from adapters.memory import MemoryEventBus
from domain.credit import events as credit_events
from domain.credit import services
from domain.credit.models import CreditRecord
from domain.credit.rules import RecordStatus, SubjectKind
from domain.events import DomainEvent, publish
from domain.ports import EventBus
from domain.projects.models import Enterprise, Project
from domain.projects.rules import ProjectKind, ProjectStage, uscc_check_char

CONTRACTOR = "91331081MA0000042" + uscc_check_char("91331081MA0000042")


async def _project() -> None:
    contractor = await Enterprise.create(name="温岭市东海建设有限公司", uscc=CONTRACTOR)
    await Project.create(
        code="WL-2026-0031",
        name="东海花园",
        kind=ProjectKind.RESIDENTIAL,
        stage=ProjectStage.CONSTRUCTION,
        town="太平街道",
        address="万昌中路1号",
        lat=28.37,
        lng=121.37,
        contractor=contractor,
    )


def complaint_upheld(ticket_id: int) -> DomainEvent:
    return DomainEvent(
        "ComplaintUpheld",
        {
            "ticket_id": ticket_id,
            "project_code": "WL-2026-0031",
            "site_code": "WL-2026-0031-S1",
            "nuisance_type": "noise",
            "upheld_by": "staff:3",
            "at": "2026-03-02T14:30:00+00:00",
        },
        event_id=f"complaint-upheld-{ticket_id}",
    )


def violation_confirmed(alarm_id: int) -> DomainEvent:
    return DomainEvent(
        "ViolationConfirmed",
        {
            "alarm_id": alarm_id,
            "site_code": "WL-2026-0099-S1",
            "project_code": "",
            "alarm_type": "no_hardhat",
            "source": "CAM-0099-1",
            "confirmed_by": "staff:3",
            "at": "2026-03-02T01:00:00+00:00",
        },
        event_id=f"violation-confirmed-{alarm_id}",
    )


async def _drain(bus: EventBus) -> int:
    catalogue = services.rule_catalogue()
    total = 0
    while handled := await credit_events.consume_once(bus, consumer="test", catalogue=catalogue):
        total += handled
    return total


async def _same_event_twice_gives_one_record(bus: EventBus) -> None:
    await _project()
    await credit_events.ensure_groups(bus)
    for event in (complaint_upheld(7), complaint_upheld(7), violation_confirmed(9), violation_confirmed(9)):
        await publish(bus, event)
    await publish(bus, DomainEvent("ComplaintUpheld", {"ticket_id": 1, "project_code": "nonsense"}))
    assert await _drain(bus) == 5
    records = await CreditRecord.all().order_by("id")
    assert len(records) == 2
    complaint, violation = records
    # The contractor answers for its site; the day is the bureau's (22:30 in Wenling on 2 March).
    assert (complaint.subject_kind, complaint.subject_id) == (SubjectKind.ENTERPRISE, CONTRACTOR)
    assert complaint.effective_on == dt.date(2026, 3, 2) and complaint.status is RecordStatus.PENDING
    assert complaint.source_event_id == "complaint-upheld-7"
    # A project unknown to the registry carries the record itself (derived from the site code).
    assert (violation.subject_kind, violation.subject_id) == (SubjectKind.PROJECT, "WL-2026-0099")
    for name in credit_events.CONSUMED_EVENTS:
        assert await bus.pending_count(f"events.{name}", credit_events.CONSUMER_GROUP) == 0
    # A redelivery after the acknowledgement (e.g. a replayed stream) changes nothing either.
    catalogue = services.rule_catalogue()
    now = dt.datetime.now(dt.UTC)
    assert await credit_events.handle_event(complaint_upheld(7), catalogue=catalogue, now=now) == complaint.id


async def test_in_memory_bus(database: str) -> None:
    await _same_event_twice_gives_one_record(MemoryEventBus())


@pytest.fixture
async def redis_bus(redis_url: str, key_prefix: str) -> AsyncIterator[EventBus]:
    client = redis_ports.connect(redis_url)
    try:
        yield redis_ports.RedisEventBus(client, key_prefix)
    finally:
        keys = [key async for key in client.scan_iter(match=f"{key_prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_redis_bus(database: str, redis_bus: EventBus) -> None:
    await _same_event_twice_gives_one_record(redis_bus)


async def test_the_worker_consumes_until_cancelled(database: str) -> None:
    bus = MemoryEventBus()
    runtime = SimpleNamespace(infra=SimpleNamespace(bus=bus))
    worker = asyncio.create_task(credit_events.run_credit_consumer(runtime))
    try:
        for _ in range(100):  # the worker creates its consumer groups first
            if await _has_group(bus):
                break
            await asyncio.sleep(0.01)
        await publish(bus, violation_confirmed(11))
        for _ in range(300):
            if await CreditRecord.filter(source_event_id="violation-confirmed-11").exists():
                break
            await asyncio.sleep(0.01)
        assert await CreditRecord.filter(source_event_id="violation-confirmed-11").count() == 1
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


async def _has_group(bus: MemoryEventBus) -> bool:
    try:
        await bus.pending_count("events.ViolationConfirmed", credit_events.CONSUMER_GROUP)
    except LookupError:
        return False
    return True
