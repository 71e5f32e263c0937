"""What leaves through the WeChat API stub: late answers, staff answers, fetched photos, the menu."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from adapters.wechat.dispatcher import build_dispatcher
from bot import messages
from bot.__main__ import push_menu
from bot.dialogue.store import load_state
from bot.menu import load_menu
from bot.webhook import bot_of
from config.app import create_app
from domain.accounts.rules import Principal, Role, issue_token
from tests.conftest import make_settings
from tests.wechat_inbound import APPID, TOKEN, WeChatSender, new_aes_key, post, serving
from tests.wechat_stub.plugin import stub_settings

AES_KEY = new_aes_key()


@pytest.fixture
async def app(db_url: str, tmp_path: Path, wechat_stub: Any) -> AsyncIterator[Any]:
    overrides = stub_settings(wechat_stub) | {
        "wechat_token": TOKEN,
        "wechat_appid": APPID,
        "wechat_aes_key": AES_KEY,
    }
    async with serving(create_app(make_settings(tmp_path, database_url=db_url, **overrides))) as app:
        yield app


def _install_slow_probe(app: Any, delay_s: float) -> list[str]:
    from bot.dialogue import IntentSpec, Reply, Turn  # noqa: PLC0415

    runs: list[str] = []

    async def probe(turn: Turn) -> Reply:
        runs.append(turn.text)
        await asyncio.sleep(delay_s)
        return Reply("慢慢来的答复")

    bot_of(app).responder.handler.engine.table.register(IntentSpec("greet", probe), replace=True)
    return runs


async def _dispatch(app: Any) -> None:
    dispatcher = await build_dispatcher(app.ctx.runtime)
    await dispatcher.run_once()


async def test_slow_answer_gets_success_then_reaches_the_user_once(app: Any, wechat_stub: Any) -> None:
    sender = WeChatSender(aes_key=AES_KEY)
    await post(app, sender, sender.text("在吗"))  # opens the runtime; the probe needs it
    bot_of(app).responder.budget_s = 0.2
    runs = _install_slow_probe(app, delay_s=0.6)
    xml = sender.text("你好", msg_id=77_000_001)
    assert (await post(app, sender, xml))[2] == "success"
    assert (await post(app, sender, xml))[2] == "success"  # WeChat's retry while still working
    await bot_of(app).responder.drain()
    await _dispatch(app)
    await _dispatch(app)
    custom = [item for item in wechat_stub.sent if item["api"] == "custom"]
    assert [(item["openid"], item["content"]) for item in custom] == [(sender.openid, "慢慢来的答复")]
    assert runs == ["你好"]


async def test_photo_is_fetched_into_the_media_store_as_evidence(app: Any, wechat_stub: Any) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, format="JPEG")
    wechat_stub.add_media("media-photo-1", buffer.getvalue(), "image/jpeg")
    sender = WeChatSender(aes_key=AES_KEY)
    _, reply, _ = await post(app, sender, sender.event("CLICK", key="intent:query_project"))
    _, reply, _ = await post(app, sender, sender.image("media-photo-1"))
    assert reply["Content"] == messages.IMAGE_RECEIVED_FOR_DIALOGUE
    state = await load_state(app.ctx.infra.cache, sender.openid)
    assert len(state.evidence) == 1
    assert await app.ctx.media.get(state.evidence[0]) == buffer.getvalue()
    _, reply, _ = await post(app, sender, sender.image("no-such-media"))
    assert reply["Content"] == messages.IMAGE_FAILED


def _token(app: Any, role: Role) -> dict[str, str]:
    secret = app.ctx.settings.secret_key.get_secret_value().encode()
    token = issue_token(
        Principal(subject="7", role=role, department="housing"), secret=secret, now=dt.datetime.now(dt.UTC)
    )
    return {"authorization": f"Bearer {token}"}


async def test_staff_answer_a_queued_citizen_through_the_outbox(app: Any, wechat_stub: Any) -> None:
    sender = WeChatSender(aes_key=AES_KEY)
    await post(app, sender, sender.text("我家楼下工地每天晚上十一点还在施工"))
    _, reply, _ = await post(app, sender, sender.text("转人工"))
    assert reply["Content"] == messages.HUMAN_QUEUED
    http = app.ctx.http
    assert (await http.get("/api/v1/staff/conversations/")).status_code == 401
    citizen = await http.get("/api/v1/staff/conversations/", headers=_token(app, Role.CITIZEN))
    assert citizen.status_code == 403
    listing = await http.get("/api/v1/staff/conversations/", headers=_token(app, Role.STAFF))
    assert listing.status_code == 200
    items = listing.json()["items"]
    assert len(items) == 1 and "十一点" in items[0]["question"] and sender.openid not in str(items)
    conversation = items[0]["id"]
    url = f"/api/v1/staff/conversations/{conversation}/answer"
    empty = await http.post(url, json={"text": "  "}, headers=_token(app, Role.STAFF))
    assert empty.status_code == 400
    answered = await http.post(
        url, json={"text": "已通知执法队今晚到场检查。"}, headers=_token(app, Role.STAFF)
    )
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    again = await http.post(url, json={"text": "重复"}, headers=_token(app, Role.STAFF))
    assert again.status_code == 409
    missing = await http.post(
        "/api/v1/staff/conversations/99999999999/answer", json={"text": "x"}, headers=_token(app, Role.STAFF)
    )
    assert missing.status_code == 404
    await _dispatch(app)
    custom = [(item["openid"], item["content"]) for item in wechat_stub.sent if item["api"] == "custom"]
    assert custom == [(sender.openid, messages.HUMAN_ANSWER_PREFIX + "已通知执法队今晚到场检查。")]


async def test_menu_push_sends_the_checked_menu(tmp_path: Path, wechat_stub: Any) -> None:
    settings = make_settings(tmp_path, **stub_settings(wechat_stub))
    await push_menu(settings)
    assert wechat_stub.menus == [load_menu()]
