"""The WeChat client against the local WeChat stub: tokens, faults, media, menu, template dedup, login."""

from __future__ import annotations

import asyncio

import pytest

from adapters.memory import MemoryCache, MemoryLock
from adapters.wechat.client import (
    AppCredentials,
    WeChatApiError,
    WeChatClient,
    WeChatNotConfigured,
    WeChatTransientError,
)
from domain.notifications.rules import SubscribeApp
from tests.wechat_stub.server import WeChatStub

OPENID = "oUSER000000000000000000001"


def make_client(
    stub: WeChatStub,
    *,
    cache: MemoryCache | None = None,
    lock: MemoryLock | None = None,
    timeout_s: float = 1.0,
) -> WeChatClient:
    return WeChatClient(
        api_base=stub.base_url,
        official=AppCredentials("wx-test", "s3cret"),
        miniprogram=AppCredentials("wxa-test", "wxa-s3cret"),
        cache=cache or MemoryCache(),
        lock=lock or MemoryLock(),
        timeout_s=timeout_s,
    )


async def test_custom_text_reaches_the_user_and_the_token_is_cached(wechat_stub: WeChatStub) -> None:
    client = make_client(wechat_stub)
    await client.send_custom_text(OPENID, "您好")
    await client.send_custom_text(OPENID, "第二条")
    assert [(m["api"], m["openid"], m["content"]) for m in wechat_stub.sent] == [
        ("custom", OPENID, "您好"),
        ("custom", OPENID, "第二条"),
    ]
    assert wechat_stub.calls_to("stable_token") == 1
    assert wechat_stub.calls_to("token") == 0, "never the invalidating /cgi-bin/token"


async def test_processes_sharing_the_cache_share_one_token(wechat_stub: WeChatStub) -> None:
    cache, lock = MemoryCache(), MemoryLock()
    first, second = (
        make_client(wechat_stub, cache=cache, lock=lock),
        make_client(wechat_stub, cache=cache, lock=lock),
    )
    await asyncio.gather(
        *(client.send_custom_text(OPENID, str(n)) for n in range(5) for client in (first, second))
    )
    assert len(wechat_stub.sent) == 10
    assert wechat_stub.calls_to("stable_token") == 1


async def test_40001_once_refreshes_the_token_once_and_retries_once(wechat_stub: WeChatStub) -> None:
    client = make_client(wechat_stub)
    await client.send_custom_text(OPENID, "warm up")
    wechat_stub.inject("custom", 40001)
    await client.send_custom_text(OPENID, "after refresh")
    assert [m["content"] for m in wechat_stub.sent] == ["warm up", "after refresh"]
    assert wechat_stub.calls_to("custom") == 3
    # stable_token handed back the rejected token, so exactly one forced refresh followed.
    assert wechat_stub.force_refresh_count == 1


async def test_a_token_rejected_twice_is_not_retried_again(wechat_stub: WeChatStub) -> None:
    client = make_client(wechat_stub)
    wechat_stub.inject("custom", 40001, times=5)
    with pytest.raises(WeChatApiError) as caught:
        await client.send_custom_text(OPENID, "x")
    assert caught.value.errcode == 40001
    assert wechat_stub.calls_to("custom") == 2
    assert wechat_stub.force_refresh_count == 1
    assert wechat_stub.sent == []


async def test_expired_token_42001_gets_a_new_stable_token_without_forcing(wechat_stub: WeChatStub) -> None:
    client = make_client(wechat_stub)
    await client.send_custom_text(OPENID, "one")
    wechat_stub.expire_tokens()
    await client.send_custom_text(OPENID, "two")
    assert len(wechat_stub.sent) == 2
    assert wechat_stub.force_refresh_count == 0
    assert wechat_stub.calls_to("stable_token") == 2


@pytest.mark.parametrize(("errcode", "error_type"), [(500, WeChatTransientError), (-1, WeChatApiError)])
async def test_server_errors_are_typed(
    wechat_stub: WeChatStub, errcode: int, error_type: type[Exception]
) -> None:
    client = make_client(wechat_stub)
    wechat_stub.inject("custom", errcode)
    with pytest.raises(error_type):
        await client.send_custom_text(OPENID, "x")
    assert wechat_stub.calls_to("custom") == 1, "no automatic retry inside the client"


async def test_slow_answer_is_a_transient_timeout(wechat_stub: WeChatStub) -> None:
    client = make_client(wechat_stub, timeout_s=0.3)
    wechat_stub.slow("custom", 1.0)
    with pytest.raises(WeChatTransientError):
        await client.send_custom_text(OPENID, "x")


async def test_template_send_is_idempotent_on_client_msg_id(wechat_stub: WeChatStub) -> None:
    client = make_client(wechat_stub)
    kwargs = {"template_id": "T1", "data": {"thing1": "扬尘超标"}, "url": "", "client_msg_id": "42"}
    first = await client.send_template(OPENID, **kwargs)  # type: ignore[arg-type]
    again = await client.send_template(OPENID, **kwargs)  # type: ignore[arg-type]
    assert first == again
    assert len(wechat_stub.sent) == 1
    body = wechat_stub.sent[0]["body"]
    assert body["client_msg_id"] == "42" and body["data"] == {"thing1": {"value": "扬尘超标"}}
    wechat_stub.advance(601)
    assert await client.send_template(OPENID, **kwargs) != first  # type: ignore[arg-type]


async def test_subscribe_messages_on_both_apps(wechat_stub: WeChatStub) -> None:
    client = make_client(wechat_stub)
    data = {"thing1": "审批通过"}
    await client.send_subscribe(OPENID, app=SubscribeApp.WXA, template_id="S1", data=data, page="/pages/a")
    await client.send_subscribe(OPENID, app=SubscribeApp.MP, template_id="S2", data=data, page="/pages/a")
    assert [m["api"] for m in wechat_stub.sent] == ["subscribe", "bizsend"]
    assert wechat_stub.sent[0]["body"]["page"] == "pages/a"
    assert wechat_stub.sent[1]["body"]["miniprogram"] == {"appid": "wxa-test", "pagepath": "pages/a"}


async def test_media_and_menu(wechat_stub: WeChatStub) -> None:
    client = make_client(wechat_stub)
    wechat_stub.add_media("MEDIA1", b"\xff\xd8\xff\xe0jpeg-bytes", "image/jpeg")
    media = await client.get_media_with_type("MEDIA1")
    assert media.data == b"\xff\xd8\xff\xe0jpeg-bytes" and media.content_type == "image/jpeg"
    assert await client.get_media("MEDIA1") == media.data
    with pytest.raises(WeChatApiError) as caught:
        await client.get_media("missing")
    assert caught.value.errcode == 40007
    menu = {"button": [{"type": "click", "name": "查工地", "key": "PROJECTS"}]}
    await client.create_menu(menu)
    assert wechat_stub.menus == [menu]


async def test_code_to_session_codes_are_one_use(wechat_stub: WeChatStub) -> None:
    client = make_client(wechat_stub)
    code = wechat_stub.issue_code("oMINI0000000000000000000001")
    session = await client.code_to_session(code)
    assert session.openid == "oMINI0000000000000000000001" and session.session_key
    with pytest.raises(WeChatApiError) as reused:
        await client.code_to_session(code)
    assert reused.value.errcode == 40163
    with pytest.raises(WeChatApiError) as unknown:
        await client.code_to_session("nope")
    assert unknown.value.errcode == 40029


async def test_missing_credentials_are_reported(wechat_stub: WeChatStub) -> None:
    client = WeChatClient(
        api_base=wechat_stub.base_url,
        official=None,
        miniprogram=None,
        cache=MemoryCache(),
        lock=MemoryLock(),
        timeout_s=1.0,
    )
    with pytest.raises(WeChatNotConfigured):
        await client.send_custom_text(OPENID, "x")
