"""The outbox end to end: enqueue -> dispatcher -> real client -> WeChat stub, every fault on the path.

Runs on SQLite and, with DATABASE_URL set, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.infrastructure import Infrastructure
from adapters.memory import MemoryCache, MemoryDedupStore, MemoryEventBus, MemoryGeoIndex, MemoryLock
from adapters.wechat.client import AppCredentials, WeChatClient, client_from_settings
from adapters.wechat.dispatcher import Dispatcher, handle_template_send_job_finish
from domain.notifications import services
from domain.notifications.delivery import ADMIN_ALERT_CATEGORY, DeliveryContext
from domain.notifications.models import OutboxMessage, SubscribeCredit
from domain.notifications.rules import (
    OutboxStatus,
    SubscribeApp,
    TemplateContent,
    TemplateSpec,
    parse_template_catalog,
)
from tests.wechat_stub.server import WeChatStub

USER = "oUSER000000000000000000001"
ADMIN = "oADMIN00000000000000000001"
ALARM_DATA = {
    "site": "WL-2026-0031-S1",
    "alarm_type": "扬尘超标",
    "value": "0.32",
    "limit": "0.08",
    "detail": "0.32mg/m³,限值0.08",
    "time": "2026-05-01 16:00",
    "severity": "严重",
}


@dataclass
class Clock:
    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@dataclass
class Env:
    stub: WeChatStub
    clock: Clock
    dispatcher: Dispatcher

    async def enqueue(
        self, key: str, *, text: str = "您的工地有新告警", template: bool = True, **kw: Any
    ) -> int:
        return await services.enqueue(
            recipient_openid=kw.pop("openid", USER),
            text=text,
            idempotency_key=key,
            category=kw.pop("category", "alarm"),
            template=TemplateContent("alarm", dict(ALARM_DATA), "/pages/alerts/detail?id=1")
            if template
            else None,
            now=self.clock.now,
            **kw,
        )

    async def interact(self, openid: str = USER) -> None:
        await services.record_interaction(openid, now=self.clock.now)

    async def message(self, message_id: int) -> OutboxMessage:
        return await OutboxMessage.get(id=message_id)


def memory_infra() -> Infrastructure:
    return Infrastructure(
        bus=MemoryEventBus(),
        dedup=MemoryDedupStore(),
        lock=MemoryLock(),
        cache=MemoryCache(),
        geo=MemoryGeoIndex(),
        redis_backed=False,
    )


def build_env(
    stub: WeChatStub, *, catalog: dict[str, TemplateSpec], recording: bool = False, timeout_s: float = 1.0
) -> Env:
    infra = memory_infra()
    client = WeChatClient(
        api_base=stub.base_url,
        official=AppCredentials("wx-test", "s3cret"),
        miniprogram=AppCredentials("wxa-test", "wxa-s3cret"),
        cache=infra.cache,
        lock=infra.lock,
        timeout_s=timeout_s,
    )
    clock = Clock(dt.datetime.now(dt.UTC).replace(microsecond=0))
    context = DeliveryContext(
        sender=None if recording else client, catalog=catalog, admin_openids=(ADMIN,), jitter=lambda: 0.0
    )
    return Env(stub, clock, Dispatcher(infra=infra, context=context, poll_interval_s=0.01, clock=clock))


@pytest.fixture
async def env(database: str, wechat_stub: WeChatStub) -> Env:
    return build_env(wechat_stub, catalog=dict(services.template_catalog()))


def without_template_id(catalog: dict[str, TemplateSpec]) -> dict[str, TemplateSpec]:
    """The same catalog where ``alarm`` has only a subscribe template (no template message)."""
    alarm = catalog["alarm"]
    raw = {"alarm": {"template_id": "", "subscribe_template_id": "SUB-ALARM", "page": alarm.page}}
    spec = parse_template_catalog(raw)["alarm"]
    return catalog | {"alarm": TemplateSpec(spec.key, "", "SUB-ALARM", alarm.fields, alarm.page)}


async def test_custom_message_inside_the_window(env: Env) -> None:
    await env.interact()
    message_id = await env.enqueue("k1")
    assert await env.dispatcher.run_once() == 1
    message = await env.message(message_id)
    assert message.status is OutboxStatus.SENT and message.channel == "custom"
    assert [(m["api"], m["content"]) for m in env.stub.sent] == [("custom", "您的工地有新告警")]


async def test_template_outside_the_window_with_client_msg_id_and_receipt(env: Env) -> None:
    message_id = await env.enqueue("k1")
    await env.dispatcher.run_once()
    message = await env.message(message_id)
    assert message.status is OutboxStatus.SENT and message.channel == "template" and message.msgid
    sent = env.stub.sent[0]
    assert sent["api"] == "template" and sent["body"]["client_msg_id"] == str(message_id)
    assert sent["content"]["thing1"] == {"value": "WL-2026-0031-S1"}
    assert sent["content"]["thing3"] == {"value": "0.32mg/m³,限值0.08"}
    assert sent["body"]["miniprogram"]["pagepath"] == "pages/alerts/detail?id=1"
    assert await handle_template_send_job_finish(message.msgid, "success", now=env.clock.now)
    assert (await env.message(message_id)).receipt_status == "success"
    assert not await handle_template_send_job_finish("999999", "success", now=env.clock.now)


@pytest.mark.parametrize("errcode", [45015, 45047])
async def test_custom_refusal_falls_back_to_the_template(env: Env, errcode: int) -> None:
    await env.interact()
    env.stub.inject("custom", errcode)
    message_id = await env.enqueue("k1")
    await env.dispatcher.run_once()
    message = await env.message(message_id)
    assert message.status is OutboxStatus.SENT and message.channel == "template"
    assert [m["api"] for m in env.stub.sent] == ["template"]
    # The platform's word beats our count: the window stays closed until the user writes again.
    second = await env.enqueue("k2")
    await env.dispatcher.run_once()
    assert (await env.message(second)).channel == "template"


async def test_43101_drops_the_credit_and_the_message_waits_for_the_user(env: Env) -> None:
    env.dispatcher._context = DeliveryContext(
        sender=env.dispatcher._context.sender,
        catalog=without_template_id(dict(services.template_catalog())),
        admin_openids=(ADMIN,),
        jitter=lambda: 0.0,
    )
    await services.grant_subscribe_credit(USER, "alarm", app=SubscribeApp.WXA, now=env.clock.now, count=3)
    env.stub.inject("subscribe", 43101)
    message_id = await env.enqueue("k1")
    await env.dispatcher.run_once()
    message = await env.message(message_id)
    assert message.status is OutboxStatus.WAITING_FOR_INTERACTION
    assert (await SubscribeCredit.get(openid=USER, template_key="alarm")).remaining == 0
    assert env.stub.sent == []
    await env.interact()
    await env.dispatcher.run_once()
    message = await env.message(message_id)
    assert message.status is OutboxStatus.SENT and message.channel == "custom"


async def test_subscribe_credit_is_used_once(env: Env) -> None:
    env.dispatcher._context = DeliveryContext(
        sender=env.dispatcher._context.sender,
        catalog=without_template_id(dict(services.template_catalog())),
        admin_openids=(ADMIN,),
    )
    await services.grant_subscribe_credit(USER, "alarm", app=SubscribeApp.WXA, now=env.clock.now)
    first, second = await env.enqueue("k1"), await env.enqueue("k2")
    await env.dispatcher.run_once()
    statuses = {(await env.message(first)).status, (await env.message(second)).status}
    assert statuses == {OutboxStatus.SENT, OutboxStatus.WAITING_FOR_INTERACTION}
    assert [m["api"] for m in env.stub.sent] == ["subscribe"]
    assert env.stub.sent[0]["body"]["template_id"] == "SUB-ALARM"
    # A new authorisation releases the waiting message.
    await services.grant_subscribe_credit(USER, "alarm", app=SubscribeApp.WXA, now=env.clock.now)
    await env.dispatcher.run_once()
    assert [m["api"] for m in env.stub.sent] == ["subscribe", "subscribe"]


@pytest.mark.parametrize("errcode", [47003, 45009])
async def test_hard_failures_are_not_retried_and_alert_the_admins_once(env: Env, errcode: int) -> None:
    env.stub.inject("template", errcode, times=2)
    first, second = await env.enqueue("k1"), await env.enqueue("k2")
    await env.dispatcher.run_once()
    for message_id in (first, second):
        message = await env.message(message_id)
        assert message.status is OutboxStatus.FAILED and message.last_errcode == errcode
    alerts = await OutboxMessage.filter(category=ADMIN_ALERT_CATEGORY)
    assert [alert.recipient_openid for alert in alerts] == [ADMIN], "one alert per errcode and hour"
    env.clock.advance(3600)
    assert await env.dispatcher.run_once() == 1  # only the alert: failed messages are never retried
    assert (await env.message(alerts[0].id)).status is OutboxStatus.SENT
    assert env.stub.sent[-1]["openid"] == ADMIN


async def test_a_failing_admin_alert_does_not_alert_about_itself(env: Env) -> None:
    env.stub.inject("template", 47003, times=2)
    await env.enqueue("k1")
    await env.dispatcher.run_once()
    await env.dispatcher.run_once()
    assert await OutboxMessage.filter(category=ADMIN_ALERT_CATEGORY).count() == 1
    assert await OutboxMessage.filter(status=OutboxStatus.FAILED).count() == 2


@pytest.mark.parametrize("errcode", [-1, 500])
async def test_transient_errors_back_off_and_retry(env: Env, errcode: int) -> None:
    env.stub.inject("template", errcode)
    message_id = await env.enqueue("k1")
    await env.dispatcher.run_once()
    message = await env.message(message_id)
    assert message.status is OutboxStatus.PENDING and message.attempts == 1
    assert message.next_attempt_at > env.clock.now
    assert await env.dispatcher.run_once() == 0, "not due yet"
    env.clock.advance(60)
    await env.dispatcher.run_once()
    assert (await env.message(message_id)).status is OutboxStatus.SENT
    assert len(env.stub.sent) == 1


async def test_slow_answer_times_out_and_the_retry_is_deduplicated(
    database: str, wechat_stub: WeChatStub
) -> None:
    env = build_env(wechat_stub, catalog=dict(services.template_catalog()), timeout_s=0.5)
    wechat_stub.slow("template", 1.0)
    message_id = await env.enqueue("k1")
    await env.dispatcher.run_once()
    assert (await env.message(message_id)).status is OutboxStatus.PENDING
    await asyncio.sleep(0.7)  # the stub finishes the slow send: WeChat did deliver it
    env.clock.advance(60)
    await env.dispatcher.run_once()
    message = await env.message(message_id)
    assert message.status is OutboxStatus.SENT
    assert wechat_stub.calls_to("template") == 2
    assert len(wechat_stub.sent) == 1, "client_msg_id = outbox id: the user gets it once"


async def _ride(env: Env, message_id: int, *, until: dt.datetime) -> int:
    """Run the dispatcher at each retry time the message asks for, up to ``until``; returns the runs."""
    runs = 0
    while env.clock.now <= until:
        await env.dispatcher.run_once()
        runs += 1
        message = await env.message(message_id)
        if message.status is not OutboxStatus.PENDING:
            break
        env.clock.now = max(message.next_attempt_at, env.clock.now)
    return runs


@pytest.mark.parametrize("errcode", [-1, 500])
async def test_an_outage_of_minutes_is_ridden_out(env: Env, errcode: int) -> None:
    """Issue 14, fault 5: WeChat answering -1 / HTTP 500 for ten minutes must not fail the message."""
    env.stub.inject("template", errcode, times=12)
    message_id = await env.enqueue("k1")
    start = env.clock.now
    await _ride(env, message_id, until=start + dt.timedelta(hours=2))
    message = await env.message(message_id)
    assert message.status is OutboxStatus.SENT and message.attempts == 12
    assert env.clock.now - start > dt.timedelta(minutes=10), "the retries spanned the outage"
    assert [m["api"] for m in env.stub.sent] == ["template"]
    assert await OutboxMessage.filter(category=ADMIN_ALERT_CATEGORY).count() == 0


async def test_a_day_long_outage_fails_once_and_alerts_the_admins(env: Env) -> None:
    env.stub.inject("template", -1, times=10_000)
    message_id = await env.enqueue("k1")
    start = env.clock.now
    await _ride(env, message_id, until=start + dt.timedelta(hours=25))
    message = await env.message(message_id)
    assert message.status is OutboxStatus.FAILED and message.alerted_at is not None
    assert env.clock.now == start + dt.timedelta(hours=24), "the last try is at the end of the horizon"
    alerts = await OutboxMessage.filter(category=ADMIN_ALERT_CATEGORY)
    assert [alert.recipient_openid for alert in alerts] == [ADMIN]
    assert str(message_id) in alerts[0].text
    counters = await services.outbox_counters()
    assert counters["failed"] == 1 and counters["failed_alerted"] == 1


async def test_recorded_mode_without_credentials(database: str, wechat_stub: WeChatStub) -> None:
    env = build_env(wechat_stub, catalog=dict(services.template_catalog()), recording=True)
    message_id = await env.enqueue("k1")
    await env.dispatcher.run_once()
    message = await env.message(message_id)
    assert message.status is OutboxStatus.RECORDED and message.channel == "template"
    assert env.stub.sent == [] and env.stub.calls_to("stable_token") == 0


async def test_long_text_goes_as_several_custom_messages(env: Env) -> None:
    await env.interact()
    text = "工地噪声投诉处理结果：" + "夜间施工已责令停止。" * 150
    await env.enqueue("k1", text=text, template=False)
    await env.dispatcher.run_once()
    parts = [m["content"] for m in env.stub.sent]
    assert len(parts) == 3 and "".join(parts) == text  # 4533 bytes
    assert all(len(part.encode()) <= 2048 for part in parts)


async def test_values_beyond_the_limits_are_never_sent_as_a_template(env: Env) -> None:
    await env.interact()
    message_id = await services.enqueue(
        recipient_openid=USER,
        text="告警",
        idempotency_key="k1",
        category="alarm",
        template=TemplateContent("alarm", ALARM_DATA | {"severity": "非常非常严重"}),
        now=env.clock.now,
    )
    await env.dispatcher.run_once()
    message = await env.message(message_id)
    assert message.status is OutboxStatus.SENT and message.channel == "custom"
    assert message.last_errcode == 47003 and "phrase4" in message.last_errmsg
    assert await OutboxMessage.filter(category=ADMIN_ALERT_CATEGORY).count() == 1


async def test_text_only_message_waits_for_the_next_interaction(env: Env) -> None:
    message_id = await env.enqueue("k1", template=False)
    await env.dispatcher.run_once()
    assert (await env.message(message_id)).status is OutboxStatus.WAITING_FOR_INTERACTION
    await env.interact()
    await env.dispatcher.run_once()
    assert (await env.message(message_id)).status is OutboxStatus.SENT


async def test_enqueue_is_idempotent(env: Env) -> None:
    ids = await asyncio.gather(*(env.enqueue("same-key") for _ in range(5)))
    assert len(set(ids)) == 1
    assert await OutboxMessage.filter(idempotency_key="same-key").count() == 1
    await env.interact()
    await env.dispatcher.run_once()
    assert await env.enqueue("same-key") == ids[0]
    await env.dispatcher.run_once()
    assert len(env.stub.sent) == 1


async def test_enqueue_rejects_unknown_templates_and_empty_text(env: Env) -> None:
    from domain.errors import ValidationFailed  # noqa: PLC0415

    with pytest.raises(ValidationFailed) as unknown:
        await services.enqueue(
            recipient_openid=USER,
            text="x",
            idempotency_key="k",
            category="c",
            template=TemplateContent("no_such_template", {}),
        )
    assert unknown.value.code == "unknown_template"
    with pytest.raises(ValidationFailed):
        await services.enqueue(recipient_openid=USER, text=" ", idempotency_key="k", category="c")


async def test_admin_listing_filters(env: Env) -> None:
    await env.enqueue("k1")
    await env.enqueue("k2", category="complaint_reply", template=False)
    await env.dispatcher.run_once()
    page = await services.list_outbox(status=OutboxStatus.SENT)
    assert page.total == 1 and page.items[0]["channel"] == "template"
    assert page.items[0]["recipient"] != USER, "openids are masked"
    page = await services.list_outbox(category="complaint_reply")
    assert page.total == 1 and page.items[0]["status"] == "waiting_for_interaction"


@dataclass
class FakeRuntime:
    settings: Any
    infra: Infrastructure

    @property
    def wechat(self) -> WeChatClient:
        return client_from_settings(self.settings, cache=self.infra.cache, lock=self.infra.lock)


@pytest.mark.parametrize("configured", [False, True])
async def test_the_embedded_worker_records_or_sends(
    database: str, wechat_stub: WeChatStub, tmp_path: Any, configured: bool
) -> None:
    from adapters.wechat.dispatcher import run_dispatcher  # noqa: PLC0415
    from tests.conftest import make_settings  # noqa: PLC0415
    from tests.wechat_stub.plugin import stub_settings  # noqa: PLC0415

    overrides = stub_settings(wechat_stub) if configured else {}
    settings = make_settings(tmp_path, outbox_poll_interval_s=0.02, **overrides)
    worker = asyncio.create_task(run_dispatcher(FakeRuntime(settings, memory_infra())))
    try:
        message_id = await services.enqueue(
            recipient_openid=USER,
            text="您好",
            idempotency_key="worker",
            category="alarm",
            template=TemplateContent("alarm", dict(ALARM_DATA)),
        )
        expected = OutboxStatus.SENT if configured else OutboxStatus.RECORDED
        for _ in range(200):
            if (await OutboxMessage.get(id=message_id)).status is expected:
                break
            await asyncio.sleep(0.05)
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    assert (await OutboxMessage.get(id=message_id)).status is expected
    assert len(wechat_stub.sent) == (1 if configured else 0)
