"""Issue 14, fault 8: the callback answers only its own official account (``ToUserName``), and in safe
mode only encrypted bodies; with the real WeChat crypto (wechatpy) on both sides."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.crypto import signature_matches
from bot.dialogue import IntentSpec, Reply, Turn
from bot.webhook import bot_of
from config.app import create_app
from tests.conftest import make_settings
from tests.wechat_inbound import ACCOUNT, APPID, TOKEN, WeChatSender, new_aes_key, post, serving

AES_KEY = new_aes_key()


async def _serve(db_url: str, tmp_path: Path, **overrides: Any) -> Any:
    settings = make_settings(
        tmp_path, database_url=db_url, wechat_token=TOKEN, wechat_appid=APPID, **overrides
    )
    return serving(create_app(settings))


def _probe(app: Any) -> list[str]:
    runs: list[str] = []

    async def probe(turn: Turn) -> Reply:
        runs.append(turn.text)
        return Reply("ok")

    bot_of(app).responder.handler.engine.table.register(IntentSpec("greet", probe), replace=True)
    return runs


@pytest.fixture
async def safe_app(db_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    async with await _serve(db_url, tmp_path, wechat_aes_key=AES_KEY, wechat_account_id=ACCOUNT) as app:
        yield app


async def test_safe_mode_answers_its_own_account_and_refuses_another(safe_app: Any) -> None:
    sender = WeChatSender(aes_key=AES_KEY)
    await post(safe_app, sender, sender.text("在吗"))  # opens the runtime for the probe
    runs = _probe(safe_app)
    status, reply, _ = await post(safe_app, sender, sender.text("你好"))
    assert status == 200 and reply["_encrypted"] == "yes" and reply["Content"] == "ok"
    forged = sender.text("你好").replace(ACCOUNT, "gh_someone_else")
    status, _, text = await post(safe_app, sender, forged)
    assert (status, text) == (403, "wrong_account")
    assert runs == ["你好"], "the other account's message was never handled"


async def test_safe_mode_refuses_a_plaintext_body_even_when_signed(safe_app: Any) -> None:
    sender = WeChatSender(aes_key=AES_KEY)
    await post(safe_app, sender, sender.text("在吗"))
    runs = _probe(safe_app)
    status, _, text = await post(safe_app, sender, sender.text("你好"), safe=False)
    assert (status, text) == (403, "plaintext_refused")
    assert runs == []


async def test_plaintext_mode_checks_the_account_too(db_url: str, tmp_path: Path) -> None:
    async with await _serve(db_url, tmp_path, wechat_account_id=ACCOUNT) as app:
        sender = WeChatSender()
        status, reply, _ = await post(app, sender, sender.text("帮助"))
        assert status == 200 and reply["Content"]
        status, _, text = await post(app, sender, sender.text("帮助").replace(ACCOUNT, "gh_other"))
        assert (status, text) == (403, "wrong_account")


async def test_without_an_account_id_any_account_is_answered(db_url: str, tmp_path: Path) -> None:
    async with await _serve(db_url, tmp_path) as app:
        sender = WeChatSender()
        status, reply, _ = await post(app, sender, sender.text("帮助").replace(ACCOUNT, "gh_other"))
        assert status == 200 and reply["Content"]


def test_signatures_are_compared_whole_and_case_blind() -> None:
    expected = "a" * 40
    assert signature_matches(expected, "A" * 40)
    assert not signature_matches(expected, "a" * 39)
    assert not signature_matches(expected, "a" * 39 + "b")
