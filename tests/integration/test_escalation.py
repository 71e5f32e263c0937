"""Issue 16: escalation reaches the responsible department's duty roster through a configured channel,
and an escalation WeChat cannot deliver in time alerts the admins and goes out by SMS (Aliyun stub)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from adapters.sms.aliyun import AliyunSms
from domain.accounts.models import Account
from domain.accounts.rules import Role
from domain.alerts import notify
from domain.alerts.models import Alarm
from domain.alerts.rules import Severity
from domain.notifications import services
from domain.notifications.escalation import Fallback, RosterMember, replace_roster
from domain.notifications.models import Escalation, OutboxMessage
from domain.notifications.rules import EscalationState, OutboxStatus
from tests.integration.test_outbox_dispatch import ADMIN, Env, build_env
from tests.sms_stub.server import AliyunSmsStub
from tests.wechat_stub.server import WeChatStub

HOUSING = [
    RosterMember("王值班", openid="oHOUSING0000000000000000001", phone="13800000001"),
    RosterMember("李值班", openid="oHOUSING0000000000000000002", phone="13800000002"),
]
POLICE = [RosterMember("张警官", openid="oPOLICE00000000000000000001", phone="13900000001")]
AFTER = dt.timedelta(minutes=15)
DEADLINE = dt.timedelta(minutes=10)


@pytest.fixture
def sms_stub() -> Iterator[AliyunSmsStub]:
    server = AliyunSmsStub()
    yield server
    server.close()


async def _env(stub: WeChatStub, sms_stub: AliyunSmsStub) -> Env:
    env = build_env(stub, catalog=dict(services.template_catalog()))
    sms = AliyunSms(
        access_key_id="LTAI-test",
        access_key_secret="test-secret",
        sign_name="温岭住建",
        endpoint=sms_stub.base_url,
    )
    env.dispatcher._fallback = Fallback(
        sms=sms, sms_template_code="SMS_ESCALATION", admin_openids=(ADMIN,), deadline=DEADLINE
    )
    return env


async def _major_alarm(now: dt.datetime) -> Alarm:
    raised = now - AFTER - dt.timedelta(minutes=1)
    for n, department in enumerate(["housing", "police", "health", "fire"]):
        await Account.create(
            username=f"staff{n}", role=Role.STAFF, department=department, openid=f"oSTAFF{n:020d}"
        )
    return await Alarm.create(
        source="WL-DUST-01",
        alarm_type="dust_pm10",
        severity=Severity.MAJOR,
        site_code="WL-2026-0031-S1",
        value=260.0,
        limit=150.0,
        raised_at=raised,
        last_seen_at=raised,
    )


async def test_escalation_reaches_the_housing_roster_only_and_is_delivered(
    database: str, wechat_stub: WeChatStub, sms_stub: AliyunSmsStub
) -> None:
    env = await _env(wechat_stub, sms_stub)
    now = env.clock.now
    await replace_roster("housing", HOUSING, actor="admin", now=now)
    await replace_roster("police", POLICE, actor="admin", now=now)
    alarm = await _major_alarm(now)
    duty = await notify.duty_openids([])
    assert await notify.escalate_due(now=now, after=AFTER, duty_openids=duty) == [alarm.id]
    assert await notify.escalate_due(now=now, after=AFTER, duty_openids=duty) == [], "once"
    messages = await OutboxMessage.filter(category="alarm_escalation")
    assert sorted(m.recipient_openid for m in messages) == [m.openid for m in HOUSING]
    await env.dispatcher.run_once()
    for message in await OutboxMessage.filter(category="alarm_escalation"):
        assert message.status is OutboxStatus.SENT and message.channel == "template"
    assert {m["body"]["template_id"] for m in wechat_stub.sent} == {"TPL-ALARM-ESCALATION-REPLACE-ME"}
    env.clock.advance(DEADLINE.total_seconds() + 1)
    await env.dispatcher.run_once()
    assert (await Escalation.get()).state is EscalationState.DELIVERED
    assert sms_stub.sent == [] and await OutboxMessage.filter(category="admin_alert").count() == 0


async def test_an_undelivered_escalation_alerts_the_admins_and_goes_by_sms(
    database: str, wechat_stub: WeChatStub, sms_stub: AliyunSmsStub
) -> None:
    env = await _env(wechat_stub, sms_stub)
    now = env.clock.now
    await replace_roster("housing", HOUSING, actor="admin", now=now)
    await _major_alarm(now)
    await notify.escalate_due(now=now, after=AFTER, duty_openids=[])
    wechat_stub.inject("template", -1, times=1000)  # WeChat is down
    await env.dispatcher.run_once()
    assert (await Escalation.get()).state is EscalationState.PENDING
    env.clock.advance(DEADLINE.total_seconds() + 1)
    await env.dispatcher.run_once()
    record = await Escalation.get()
    assert record.state is EscalationState.FALLBACK and record.sms_sent == 2
    assert sorted(sms["phone"] for sms in sms_stub.sent) == ["13800000001", "13800000002"]
    assert sms_stub.sent[0]["params"]["site"] == "WL-2026-0031-S1"
    alerts = await OutboxMessage.filter(category="admin_alert")
    assert [alert.recipient_openid for alert in alerts] == [ADMIN]
    env.clock.advance(60)
    await env.dispatcher.run_once()
    assert len(sms_stub.sent) == 2, "the fallback happens once"


async def test_a_department_without_a_roster_uses_the_default_one(
    database: str, wechat_stub: WeChatStub, sms_stub: AliyunSmsStub
) -> None:
    env = await _env(wechat_stub, sms_stub)
    now = env.clock.now
    default = [RosterMember("总值班", openid="oDEFAULT0000000000000000001", phone="13700000001")]
    await replace_roster("default", default, actor="admin", now=now)
    await replace_roster("police", POLICE, actor="admin", now=now)
    await _major_alarm(now)
    await notify.escalate_due(now=now, after=AFTER, duty_openids=[])
    messages = await OutboxMessage.filter(category="alarm_escalation")
    assert [m.recipient_openid for m in messages] == ["oDEFAULT0000000000000000001"]
