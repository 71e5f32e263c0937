"""The alarm lifecycle on SQLite and PostgreSQL: one active alarm per (source, type) even under
concurrent raises, notifications with cooldown and digest, acknowledge, clear, resolve, escalation,
violation confirmation and bindings."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import pytest

from adapters.memory import MemoryEventBus
from domain.alerts import bindings, notify, queries, services
from domain.alerts.models import Alarm
from domain.alerts.rules import Severity
from domain.errors import Conflict, Forbidden
from domain.events import stream_of
from tests.integration.iot_helpers import T0, EnqueueRecorder, make_site
from tests.outbox_helpers import relay_all

MANAGER = "oManager000000000001"


async def _bound_site() -> None:
    await make_site()
    issued = await bindings.issue_binding_code(site_code="WL-2026-0031-S1", issued_by="staff:1", at=T0)
    await bindings.bind_site(openid=MANAGER, code=issued["code"], project_code="WL-2026-0031", at=T0)


def _raise(bus: MemoryEventBus, *, value: float, at: dt.datetime, severity: str = "warning") -> Any:
    return services.raise_alarm(
        bus=bus,
        source="WLDUST003101",
        alarm_type="dust_pm10_1h",
        severity=severity,
        site_code="WL-2026-0031-S1",
        value=value,
        limit=150.0,
        message="PM10 high",
        at=at,
    )


async def test_concurrent_raises_make_exactly_one_alarm(database: str, outbox: EnqueueRecorder) -> None:
    await _bound_site()
    bus = MemoryEventBus()
    ids = await asyncio.gather(
        *(_raise(bus, value=160 + i, at=T0 + dt.timedelta(milliseconds=i)) for i in range(12))
    )
    assert len(set(ids)) == 1
    assert await Alarm.filter(source="WLDUST003101").count() == 1
    alarm = await Alarm.get(id=ids[0])
    assert alarm.update_count == 11
    assert alarm.peak_value == 171
    assert alarm.project_code == "WL-2026-0031"
    assert len(outbox.calls) == 1  # one notification, not twelve
    assert outbox.calls[0]["recipient_openid"] == MANAGER
    assert outbox.calls[0]["template"].template_key == "alarm"


async def test_an_update_that_saw_the_alarm_before_its_first_notice_does_not_notify_again(
    database: str, outbox: EnqueueRecorder
) -> None:
    """The race CI once hit: the creator claims the first notice (count 0 stays 0) while a concurrent
    update had already read the alarm as 'never notified'. Only one of them may send."""
    await _bound_site()
    alarm_id = await _raise(MemoryEventBus(), value=160, at=T0)
    assert len(outbox.calls) == 1
    seen_before_the_notice = await Alarm.get(id=alarm_id)
    seen_before_the_notice.notified_at = None
    seen_before_the_notice.update_count = 1
    await notify.notify_managers(
        seen_before_the_notice, created=False, severity_rose=False, now=T0 + dt.timedelta(seconds=1)
    )
    assert len(outbox.calls) == 1


async def test_repeats_are_digested_after_the_cooldown_and_severity_rise_is_told(
    database: str, outbox: EnqueueRecorder
) -> None:
    await _bound_site()
    bus = MemoryEventBus()
    await _raise(bus, value=160, at=T0)
    for minute in range(1, 9):
        await _raise(bus, value=160, at=T0 + dt.timedelta(minutes=minute))
    assert len(outbox.calls) == 1
    await _raise(bus, value=165, at=T0 + dt.timedelta(minutes=11))
    assert len(outbox.calls) == 2 and "持续" in outbox.calls[1]["text"]
    await _raise(bus, value=230, at=T0 + dt.timedelta(minutes=12), severity="major")
    assert len(outbox.calls) == 3


async def test_lifecycle_acknowledge_clear_and_a_new_alarm_after(
    database: str, outbox: EnqueueRecorder
) -> None:
    await _bound_site()
    bus = MemoryEventBus()
    first = await _raise(bus, value=160, at=T0)
    with pytest.raises(Forbidden):
        await services.acknowledge(first, actor="x", openid="oStranger0000000", at=T0)
    detail = await services.acknowledge(
        first, actor="manager", openid=MANAGER, at=T0 + dt.timedelta(minutes=1)
    )
    assert detail["state"] == "acknowledged"
    with pytest.raises(Conflict):
        await services.acknowledge(first, actor="manager", openid=MANAGER, at=T0)
    assert (
        await services.clear_alarm(
            bus=bus, source="WLDUST003101", alarm_type="dust_pm10_1h", at=T0 + dt.timedelta(minutes=20)
        )
        == first
    )
    detail = await services.alarm_detail(first)
    assert detail["state"] == "cleared"
    assert [e["kind"] for e in detail["timeline"]] == ["raised", "notified", "acknowledged", "cleared"]
    second = await _raise(bus, value=170, at=T0 + dt.timedelta(minutes=30))
    assert second != first


async def test_resolve_needs_note_and_photo_and_confirm_emits_one_event(
    database: str, outbox: EnqueueRecorder
) -> None:
    await _bound_site()
    bus = MemoryEventBus()
    await bus.ensure_group(stream_of("ViolationConfirmed"), "credit")
    alarm_id = await _raise(bus, value=160, at=T0)
    with pytest.raises(Exception, match="photo"):
        await services.resolve(
            alarm_id, bus=bus, actor="m", openid=MANAGER, note="洒水降尘", photo_ref="", at=T0
        )
    detail = await services.resolve(
        alarm_id, bus=bus, actor="m", openid=MANAGER, note="洒水降尘", photo_ref="ab" * 32 + ".jpg", at=T0
    )
    assert detail["state"] == "resolved" and detail["resolution_note"] == "洒水降尘"
    for _ in range(2):
        await services.confirm_violation(alarm_id, bus=bus, staff="staff:1", at=T0)
    await relay_all(bus)  # the event outbox, published by the relay
    messages = await bus.read(stream_of("ViolationConfirmed"), "credit", "c1", count=10)
    assert len(messages) == 1
    payload = json.loads(messages[0].fields["payload"])
    assert set(payload) == {
        "alarm_id",
        "site_code",
        "project_code",
        "alarm_type",
        "source",
        "confirmed_by",
        "at",
    }
    assert payload["project_code"] == "WL-2026-0031"


async def test_unacknowledged_major_alarm_escalates_once(database: str, outbox: EnqueueRecorder) -> None:
    await _bound_site()
    bus = MemoryEventBus()
    alarm_id = await _raise(bus, value=230, at=T0, severity="major")
    minor = await services.raise_alarm(
        bus=bus,
        source="WLNOISE003101",
        alarm_type="noise_day_leq",
        severity="warning",
        site_code="WL-2026-0031-S1",
        value=72,
        limit=70,
        message="",
        at=T0,
    )
    after = dt.timedelta(minutes=15)
    assert (
        await notify.escalate_due(
            now=T0 + dt.timedelta(minutes=14), after=after, duty_openids=["oDuty0000001"]
        )
        == []
    )
    assert await notify.escalate_due(
        now=T0 + dt.timedelta(minutes=16), after=after, duty_openids=["oDuty0000001"]
    ) == [alarm_id]
    assert (
        await notify.escalate_due(
            now=T0 + dt.timedelta(minutes=17), after=after, duty_openids=["oDuty0000001"]
        )
        == []
    )
    assert [c["recipient_openid"] for c in outbox.calls if c["category"] == "alarm_escalation"] == [
        "oDuty0000001"
    ]
    assert minor != alarm_id


async def test_binding_code_is_one_time_and_unbind(database: str, outbox: EnqueueRecorder) -> None:
    await make_site()
    issued = await bindings.issue_binding_code(site_code="WL-2026-0031-S1", issued_by="staff:1", at=T0)
    results = await asyncio.gather(
        *(bindings.bind_site(openid=f"oUser{i:012d}", code=issued["code"], at=T0) for i in range(3)),
        return_exceptions=True,
    )
    assert sum(1 for r in results if isinstance(r, dict)) == 1
    winner = next(f"oUser{i:012d}" for i, r in enumerate(results) if isinstance(r, dict))
    assert await bindings.sites_of(winner) == ["WL-2026-0031-S1"]
    assert await bindings.unbind_site(openid=winner, site_code="WL-2026-0031-S1")
    assert await bindings.sites_of(winner) == []


async def test_staff_counts_and_filters(database: str, outbox: EnqueueRecorder) -> None:
    await _bound_site()
    bus = MemoryEventBus()
    await _raise(bus, value=160, at=T0)
    await services.raise_alarm(
        bus=bus,
        source="WLCRANE003101",
        alarm_type="crane_moment",
        severity="critical",
        site_code="WL-2026-0031-S1",
        value=112,
        limit=100,
        message="",
        at=T0,
    )
    listed = await queries.list_alarms(queries.AlarmQuery(severity=Severity.CRITICAL))
    assert listed["total"] == 1 and listed["items"][0]["alarm_type"] == "crane_moment"
    counts = await queries.alarm_counts(queries.AlarmQuery())
    assert counts["severity"] == {"warning": 1, "critical": 1}
    assert counts["state"] == {"raised": 2}
