"""The callback end to end in process: signatures, safe mode, hostile input, idempotency, deadline,
message types and events, on SQLite and PostgreSQL (and Redis ports when REDIS_URL is set elsewhere)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot import messages
from bot.dialogue import IntentSpec, Reply, Turn
from bot.webhook import bot_of
from config.app import create_app
from domain.conversations.models import StaffConversation
from domain.notifications.models import OutboxMessage
from tests.conftest import make_settings
from tests.outbox_helpers import relay_all
from tests.wechat_inbound import APPID, TOKEN, WeChatSender, new_aes_key, post, serving, sha1_sorted

AES_KEY = new_aes_key()


@pytest.fixture
async def app(db_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    settings = make_settings(
        tmp_path,
        database_url=db_url,
        wechat_token=TOKEN,
        wechat_appid=APPID,
        wechat_aes_key=AES_KEY,
        wechat_reply_budget_s=1.0,
    )
    async with serving(create_app(settings)) as app:
        yield app


@pytest.fixture
def sender() -> WeChatSender:
    return WeChatSender(aes_key=AES_KEY)


def install_probe(app: Any, *, delay_s: float = 0.0, text: str = "probe done") -> list[str]:
    """Replace the greet dialogue ("你好") by a probe recording each run (the side effect)."""
    runs: list[str] = []

    async def probe(turn: Turn) -> Reply:
        runs.append(turn.text)
        await asyncio.sleep(delay_s)
        return Reply(text)

    bot_of(app).responder.handler.engine.table.register(IntentSpec("greet", probe), replace=True)
    return runs


async def test_url_verification(app: Any, sender: WeChatSender) -> None:
    response = await app.ctx.http.get("/wechat/callback", params=sender.verification("abc-42"))
    assert (response.status_code, response.text) == (200, "abc-42")
    params = sender.verification() | {"signature": "0" * 40}
    response = await app.ctx.http.get("/wechat/callback", params=params)
    assert response.status_code == 403


async def test_safe_mode_round_trip(app: Any, sender: WeChatSender) -> None:
    install_probe(app, text="答复]]><injected/>")
    status, reply, _ = await post(app, sender, sender.text("你好"))
    assert status == 200
    assert reply["_encrypted"] == "yes"
    assert reply["Content"] == "答复]]><injected/>"
    assert (reply["ToUserName"], reply["MsgType"]) == (sender.openid, "text")
    # Issue 14, fault 8: with safe mode configured a plaintext body (unsigned) is refused.
    plain = WeChatSender(openid=sender.openid)
    status, _, text = await post(app, plain, plain.text("你好"))
    assert (status, text) == (403, "plaintext_refused")


async def test_previous_aes_key_keeps_working(db_url: str, tmp_path: Path) -> None:
    old, new = new_aes_key(), new_aes_key()
    settings = make_settings(
        tmp_path,
        database_url=db_url,
        wechat_token=TOKEN,
        wechat_appid=APPID,
        wechat_aes_key=new,
        wechat_aes_key_previous=old,
    )
    async with serving(create_app(settings)) as app:
        await _rotation(app, old=old, new=new)


async def _rotation(app: Any, *, old: str, new: str) -> None:
    for key in (new, old):
        sender = WeChatSender(aes_key=key)
        status, reply, _ = await post(app, sender, sender.text("你好"))
        assert status == 200 and reply["_encrypted"] == "yes" and reply["Content"] == messages.GREETING
    stranger = WeChatSender(aes_key=new_aes_key())
    status, _, text = await post(app, stranger, stranger.text("你好"))
    assert (status, text) == (400, "undecryptable")


async def test_bad_signature_stale_timestamp_and_replayed_nonce_are_refused(
    app: Any, sender: WeChatSender
) -> None:
    xml = sender.text("你好")
    params, body = sender.request(xml)
    bad = dict(params, signature=sha1_sorted("wrong", params["timestamp"], params["nonce"]))
    response = await app.ctx.http.post("/wechat/callback", params=bad, content=body)
    assert (response.status_code, response.text) == (403, "bad_signature")
    stale = str(int(time.time()) - 301)
    status, _, text = await post(app, sender, xml, timestamp=stale)
    assert (status, text) == (403, "stale_timestamp")
    status, _, text = await post(app, sender, xml, nonce="n-1", timestamp=params["timestamp"])
    assert (status, text) == (200, text) and status == 200, text
    # The same nonce with another message is a replay; with the same message it is WeChat's retry.
    status, _, text = await post(
        app, sender, sender.text("另一条"), nonce="n-1", timestamp=params["timestamp"]
    )
    assert (status, text) == (403, "replayed_nonce")
    response = await app.ctx.http.post(
        "/wechat/callback", params={"timestamp": params["timestamp"]}, content=body
    )
    assert response.status_code == 400


HOSTILE = [
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]>'
    b"<xml><ToUserName>a</ToUserName><Content>&lol3;</Content></xml>",
    b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Content>&xxe;</Content></xml>',
    b"<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[o",
    b"<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>soon</CreateTime>"
    b"<MsgType>text</MsgType><Content>x</Content><MsgId>1</MsgId></xml>",
    b"<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>"
    b"<MsgType>location</MsgType><Location_X>NaN</Location_X><Location_Y>1</Location_Y></xml>",
    b"\x00\x01\x02 not xml",
    b"[]",
]


async def test_hostile_xml_gets_4xx_never_5xx(app: Any, sender: WeChatSender) -> None:
    plain = WeChatSender(openid=sender.openid)
    for body in HOSTILE:
        params, _ = plain.request("")
        response = await app.ctx.http.post("/wechat/callback", params=params, content=body)
        assert response.status_code == 403, body  # plaintext in safe mode: refused before parsing
        # The same hostile XML inside a correctly encrypted envelope is refused too.
        status, _, _ = await post(app, sender, body.decode("latin-1"))
        assert status == 400, body
    # The server is still fine afterwards.
    status, reply, _ = await post(app, sender, sender.text("你好"))
    assert status == 200 and reply["Content"]


async def test_oversized_body_is_refused(app: Any, sender: WeChatSender) -> None:
    status, _, text = await post(app, sender, sender.text("长" * 30_000), safe=False)
    assert (status, text) == (413, "body_too_large")


async def test_retries_get_the_same_reply_and_run_the_handler_once(app: Any, sender: WeChatSender) -> None:
    runs = install_probe(app, delay_s=0.2)
    xml = sender.text("你好", msg_id=88_000_001)
    results = await asyncio.gather(*(post(app, sender, xml) for _ in range(3)))
    assert runs == ["你好"]
    contents = sorted(reply.get("Content", "success") for _, reply, _ in results)
    assert contents == ["probe done", "success", "success"]  # the two in-flight retries get success
    status, reply, _ = await post(app, sender, xml)  # a later retry: the stored answer
    assert (status, reply["Content"]) == (200, "probe done")
    assert runs == ["你好"]


async def test_event_dedup_by_user_time_and_event(app: Any, sender: WeChatSender) -> None:
    at = int(time.time())
    first = await post(app, sender, sender.event("CLICK", key="help", create_time=at))
    again = await post(app, sender, sender.event("CLICK", key="help", create_time=at))
    other = await post(app, sender, sender.event("subscribe", create_time=at))
    assert first[1]["Content"] == again[1]["Content"] == messages.HELP
    assert other[1]["Content"] == messages.WELCOME


async def test_deadline_answers_success_then_pushes_through_the_outbox(
    app: Any, sender: WeChatSender
) -> None:
    bot_of(app).responder.budget_s = 0.2
    install_probe(app, delay_s=0.6)
    xml = sender.text("你好", msg_id=88_000_002)
    status, reply, text = await post(app, sender, xml)
    assert (status, reply, text) == (200, {}, "success")
    status, _, text = await post(app, sender, xml)  # WeChat's retry while still in progress
    assert text == "success"
    await bot_of(app).responder.drain()
    pushed = await OutboxMessage.filter(recipient_openid=sender.openid).values_list("idempotency_key", "text")
    assert pushed == [("wx-reply:msg:88000002:0", "probe done")]


async def test_long_answers_are_split_and_the_rest_pushed(app: Any, sender: WeChatSender) -> None:
    long_text = "\n".join(f"第{i}行：温岭市建设工程信息" for i in range(300))
    install_probe(app, text=long_text)
    status, reply, _ = await post(app, sender, sender.text("你好", msg_id=88_000_003))
    assert status == 200 and len(reply["Content"].encode()) <= 2048
    rows = await OutboxMessage.filter(recipient_openid=sender.openid).order_by("id").values("text")
    pushed = [str(row["text"]) for row in rows]
    assert pushed and all(len(piece.encode()) <= 2048 for piece in pushed)
    assert (reply["Content"] + "".join(pushed)).replace("\n", "") == long_text.replace("\n", "")


async def test_human_agent_queue_and_unsubscribe_erasure(app: Any, sender: WeChatSender) -> None:
    bus = bot_of(app).infra.bus
    await bus.ensure_group("events.UserUnsubscribed", "test")
    await post(app, sender, sender.text("工地半夜还在打桩"))
    _, reply, _ = await post(app, sender, sender.text("转人工"))
    assert reply["Content"] == messages.HUMAN_QUEUED
    queued = await StaffConversation.filter(openid=sender.openid).values("status", "question")
    assert queued == [{"status": "waiting", "question": "工地半夜还在打桩"}]
    await post(app, sender, sender.location(28.372, 121.372))
    status, reply, text = await post(app, sender, sender.event("unsubscribe"))
    assert (status, text) == (200, "success")
    assert await StaffConversation.filter(openid=sender.openid).count() == 0
    assert await relay_all(bus) == 1  # the event outbox, published by the relay
    events = await bus.read("events.UserUnsubscribed", "test", "c1")
    assert [message.fields["payload"] for message in events] == [f'{{"openid": "{sender.openid}"}}']
    _, reply, _ = await post(app, sender, sender.text("附近的工地"))
    assert reply["Content"] == messages.PROJECT_ASK_LOCATION  # the remembered location is gone


async def test_subscribe_with_a_binding_scene_uses_the_hook(app: Any, sender: WeChatSender) -> None:
    # The bot takes its hooks when it is built: swap them, then let it be built again.
    app.ctx.bot_hooks = dataclasses.replace(app.ctx.bot_hooks, bind_site=None)  # without the alerts hook
    app.ctx.wechat_bot = None
    _, reply, _ = await post(app, sender, sender.event("subscribe", key="qrscene_bind:tok123"))
    assert reply["Content"] == messages.BIND_WELCOME_PREFIX + messages.BIND_HOW_TO
    calls: list[tuple[str, str]] = []

    async def bind_site(openid: str, token: str, *, now: dt.datetime) -> str:
        calls.append((openid, token))
        return "已绑定工地"

    app.ctx.bot_hooks = dataclasses.replace(app.ctx.bot_hooks, bind_site=bind_site)
    app.ctx.wechat_bot = None
    _, reply, _ = await post(app, sender, sender.event("SCAN", key="bind:tok456"))
    assert reply["Content"] == "已绑定工地" and calls == [(sender.openid, "tok456")]


async def test_voice_menu_and_receipt_events(app: Any, sender: WeChatSender) -> None:
    _, reply, _ = await post(app, sender, sender.image("media-i1"))
    assert reply["Content"] == messages.IMAGE_RECEIVED  # no WeChat credentials: the media id is kept
    _, reply, _ = await post(app, sender, sender.voice("media-v1"))
    assert reply["Content"] == messages.VOICE_NEEDS_TEXT
    _, reply, _ = await post(app, sender, sender.voice("media-v2", recognition="你好"))
    assert reply["Content"] == messages.GREETING
    _, reply, _ = await post(app, sender, sender.event("CLICK", key="intent:query_project"))
    assert reply["Content"] == messages.PROJECT_ASK_WHICH
    status, _, text = await post(
        app, sender, sender.event("TEMPLATESENDJOBFINISH", MsgID=123, Status="success")
    )
    assert (status, text) == (200, "success")
    status, _, text = await post(
        app, sender, sender.event("LOCATION", Latitude=28.37, Longitude=121.37, Precision=30)
    )
    assert (status, text) == (200, "success")
