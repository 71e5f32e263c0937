"""Complaint services on SQLite and PostgreSQL: atomic ticket numbers under concurrency, SLA reminders
through the outbox, the ComplaintUpheld event, and the night-permit evidence."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from zoneinfo import ZoneInfo

from adapters.memory import MemoryEventBus
from domain.accounts.models import Account
from domain.accounts.rules import Principal, Role
from domain.complaints import intake, services
from domain.complaints.models import Complaint, ComplaintEvent
from domain.complaints.reminders import send_sla_reminders
from domain.complaints.rules import Action, Actor, State
from domain.errors import Conflict
from domain.notifications.models import OutboxMessage
from domain.permits.rules import PermitWindow
from domain.permits.services import active_night_permit, register_permit, revoke_permit
from tests.integration.test_complaints_api import NEAR_A, seed_sites
from tests.outbox_helpers import relay_all

SH = ZoneInfo("Asia/Shanghai")
STAFF = Principal(subject="1", role=Role.STAFF, department="housing")


def report(openid: str = "oCitizenAAAA0001", **overrides: object) -> intake.NewComplaint:
    values: dict[str, object] = {
        "nuisance_type": "night_noise",
        "description": "夜间打桩",
        "channel": "wechat",
        "reporter_openid": openid,
        "lat": NEAR_A[0],
        "lng": NEAR_A[1],
    }
    return intake.NewComplaint(**(values | overrides))  # type: ignore[arg-type]


async def test_ticket_numbers_are_unique_and_sequential_under_concurrency(database: str) -> None:
    await seed_sites()
    now = dt.datetime(2026, 3, 10, 16, 30, tzinfo=dt.UTC)  # 00:30 on 3-11 in Shanghai
    tickets = await asyncio.gather(*(intake.submit(report(), now=now) for _ in range(25)))
    numbers = sorted(t.ticket_no for t in tickets)
    assert numbers == [f"TS20260311{seq:03d}" for seq in range(1, 26)]
    next_day = await intake.submit(report(), now=now + dt.timedelta(days=1))
    assert next_day.ticket_no == "TS20260312001"


async def test_sla_reminders_go_to_the_department_once_per_deadline(database: str) -> None:
    await seed_sites()
    start = dt.datetime(2026, 3, 10, 23, 0, tzinfo=SH)
    ticket = await intake.submit(report(), now=start)
    assert ticket.due_at == start + dt.timedelta(hours=2)  # the night-noise clock
    assert await send_sla_reminders(start + dt.timedelta(minutes=30)) == 0
    assert await send_sla_reminders(start + dt.timedelta(minutes=100)) == 1  # due soon
    assert await send_sla_reminders(start + dt.timedelta(minutes=110)) == 0  # already reminded
    assert await send_sla_reminders(start + dt.timedelta(hours=3)) == 1  # overdue
    messages = await OutboxMessage.filter(recipient_openid="oStaffHousing0001").order_by("id")
    assert [m.category for m in messages] == ["complaint_sla", "complaint_sla"]
    assert ticket.ticket_no in messages[0].text and "将于" in messages[0].text and "超期" in messages[1].text
    # An assigned handler with an openid is reminded personally.
    handler = await Account.get(username="housing1")
    second = await intake.submit(report(nuisance_type="dust"), now=start)
    await services.assign(second.ticket_no, principal=STAFF, now=start, assignee_id=str(handler.id))
    await Complaint.filter(id=second.id).update(due_at=start + dt.timedelta(hours=1))
    assert await send_sla_reminders(start + dt.timedelta(hours=2)) == 1


async def test_answered_tickets_get_no_reminders(database: str) -> None:
    await seed_sites()
    start = dt.datetime(2026, 3, 10, 23, 0, tzinfo=SH)
    ticket = await intake.submit(report(), now=start)
    await services.staff_act(ticket.ticket_no, Action.ACCEPT, principal=STAFF, now=start)
    await services.reply(
        ticket.ticket_no, principal=STAFF, text="已处理", now=start + dt.timedelta(minutes=20)
    )
    assert await send_sla_reminders(start + dt.timedelta(hours=5)) == 0


async def test_uphold_emits_complaint_upheld_with_the_contract_payload(database: str) -> None:
    await seed_sites()
    bus = MemoryEventBus()
    await bus.ensure_group("events.ComplaintUpheld", "credit")
    now = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
    ticket = await intake.submit(report(), now=now)
    await services.staff_act(ticket.ticket_no, Action.ACCEPT, principal=STAFF, now=now)
    for _ in range(2):
        await services.uphold(ticket.ticket_no, principal=STAFF, now=now)
    assert await relay_all(bus) == 1  # the event outbox, published by the relay
    messages = await bus.read("events.ComplaintUpheld", "credit", "c1", count=10)
    assert len(messages) == 1
    payload = json.loads(messages[0].fields["payload"])
    assert payload == {
        "ticket_id": ticket.ticket_no,
        "project_code": "WL-2026-0031",
        "site_code": "WL-2026-0031-S1",
        "nuisance_type": "night_noise",
        "upheld_by": "1",
        "at": now.isoformat(),
    }
    assert messages[0].fields["event_id"] == f"complaint-upheld-{ticket.ticket_no}"


async def test_night_permit_is_attached_as_evidence(database: str) -> None:
    await seed_sites()
    window = PermitWindow(dt.date(2026, 3, 10), dt.date(2026, 3, 12), dt.time(22, 0), dt.time(6, 0))
    permit = await register_permit(
        certificate_no="温建夜2026-0031",
        site_code="WL-2026-0031-S1",
        window=window,
        works="混凝土浇筑",
        issued_by="housing",
        notice_posted=True,
        notice_ref="",
        created_by="1",
    )
    inside = dt.datetime(2026, 3, 11, 2, 0, tzinfo=SH)
    tonight = {
        "covers_from": dt.datetime(2026, 3, 10, 22, 0, tzinfo=SH).astimezone(dt.UTC).isoformat(),
        "covers_until": dt.datetime(2026, 3, 11, 6, 0, tzinfo=SH).astimezone(dt.UTC).isoformat(),
    }  # 02:00 on the 11th belongs to the night that began on the 10th
    assert (await active_night_permit("WL-2026-0031-S1", inside)) == permit | tonight
    assert await active_night_permit("WL-2026-0031-S1", dt.datetime(2026, 3, 14, 2, 0, tzinfo=SH)) is None
    assert await active_night_permit("WL-2026-0032-S1", inside) is None
    covered = await intake.submit(report(occurred_at=inside), now=inside + dt.timedelta(minutes=5))
    assert covered.evidence["night_permit"]["certificate_no"] == "温建夜2026-0031"
    await revoke_permit(permit["id"], now=inside)
    assert await active_night_permit("WL-2026-0031-S1", inside) is None
    uncovered = await intake.submit(report(occurred_at=inside), now=inside + dt.timedelta(minutes=6))
    assert uncovered.evidence["night_permit"] is None


async def test_two_staff_racing_on_one_ticket_cannot_both_win(database: str) -> None:
    await seed_sites()
    now = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
    ticket = await intake.submit(report(), now=now)
    # Both staff loaded the ticket while it was dispatched; each presses a different button.
    first, second = await Complaint.get(id=ticket.id), await Complaint.get(id=ticket.id)
    results = await asyncio.gather(
        services.apply(first, Action.ACCEPT, actor=Actor.STAFF, actor_id="1", now=now),
        services.apply(second, Action.REFUSE, actor=Actor.STAFF, actor_id="2", now=now, note="重复"),
        return_exceptions=True,
    )
    assert sum(not isinstance(result, Exception) for result in results) == 1
    loser = next(result for result in results if isinstance(result, Exception))
    assert isinstance(loser, Conflict) and loser.code == "ticket_changed"
    final = await Complaint.get(id=ticket.id)
    assert final.state in (State.ACCEPTED, State.NOT_ACCEPTED)
    assert await ComplaintEvent.filter(complaint_id=ticket.id).count() == 3  # submit, dispatch, the winner


async def test_site_managers_are_told_what_and_where_but_not_who(database: str) -> None:
    from domain.alerts.models import SiteBinding  # noqa: PLC0415 - another context's table, test setup only

    await seed_sites()
    now = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
    await SiteBinding.create(site_code="WL-2026-0031-S1", openid="oSiteManager00001", bound_at=now)
    ticket = await intake.submit(report(reporter_phone="13800000000"), now=now)
    [message] = await OutboxMessage.filter(recipient_openid="oSiteManager00001")
    assert ticket.ticket_no in message.text and "WL-2026-0031-S1" in message.text
    assert "13800000000" not in message.text and "oCitizen" not in message.text
    assert ticket.evidence["monitors"]["noise_leq_1h"] is None  # no readings stored in this test
