"""The WeChat stub itself behaves like WeChat where the tests rely on it (tokens, checks, faults)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from tests.wechat_stub.server import WeChatStub


def call(stub: WeChatStub, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(stub.base_url + path, data=data, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_token_invalidates_the_previous_one_but_stable_token_is_shared(wechat_stub: WeChatStub) -> None:
    _, first = call(wechat_stub, "/cgi-bin/token?grant_type=client_credential&appid=wx-test&secret=s3cret")
    _, second = call(wechat_stub, "/cgi-bin/token?grant_type=client_credential&appid=wx-test&secret=s3cret")
    send = {"touser": "o1", "msgtype": "text", "text": {"content": "hi"}}
    _, old = call(wechat_stub, f"/cgi-bin/message/custom/send?access_token={first['access_token']}", send)
    _, new = call(wechat_stub, f"/cgi-bin/message/custom/send?access_token={second['access_token']}", send)
    assert old["errcode"] == 40001 and new["errcode"] == 0
    stable = {"grant_type": "client_credential", "appid": "wx-test", "secret": "s3cret"}
    _, a = call(wechat_stub, "/cgi-bin/stable_token", stable)
    _, b = call(wechat_stub, "/cgi-bin/stable_token", stable)
    _, forced = call(wechat_stub, "/cgi-bin/stable_token", stable | {"force_refresh": True})
    assert a["access_token"] == b["access_token"] != forced["access_token"]
    _, wrong = call(wechat_stub, "/cgi-bin/stable_token", stable | {"secret": "nope"})
    assert wrong["errcode"] == 40125


def test_missing_token_faults_and_http_errors(wechat_stub: WeChatStub) -> None:
    _, missing = call(wechat_stub, "/cgi-bin/menu/create", {"button": [{"name": "x"}]})
    assert missing["errcode"] == 41001
    wechat_stub.inject("menu", 45009)
    _, limited = call(wechat_stub, "/cgi-bin/menu/create?access_token=x", {"button": []})
    assert limited["errcode"] == 45009
    wechat_stub.inject("menu", 500)
    status, _ = call(wechat_stub, "/cgi-bin/menu/create?access_token=x", {"button": []})
    assert status == 500
    _, after = call(wechat_stub, "/cgi-bin/menu/create?access_token=x", {"button": []})
    assert after["errcode"] == 40001, "faults are used up; then the real token check answers"
