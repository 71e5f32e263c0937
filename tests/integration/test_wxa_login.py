"""Mini-program login through jscode2session on the WeChat stub: token issued, session_key kept back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config.app import create_app
from tests.conftest import make_settings
from tests.wechat_stub.plugin import stub_settings
from tests.wechat_stub.server import WeChatStub

OPENID = "oMINI0000000000000000000001"


@pytest.fixture
def client(db_url: str, tmp_path: Path, wechat_stub: WeChatStub) -> Any:
    settings = make_settings(tmp_path, database_url=db_url, **stub_settings(wechat_stub))
    return create_app(settings).asgi_client


async def test_login_issues_the_apps_token_and_never_the_session_key(
    client: Any, wechat_stub: WeChatStub
) -> None:
    code = wechat_stub.issue_code(OPENID)
    _, response = await client.post("/api/v1/auth/login", json={"code": code})
    assert response.status == 200
    assert response.json["role"] == "citizen" and response.json["token"]
    assert "session_key" not in response.text
    _, again = await client.post("/api/v1/auth/login", json={"code": code})
    assert again.status == 401 and again.json["code"] == "invalid_code", "codes are one-use"


async def test_the_same_openid_keeps_its_account(client: Any, wechat_stub: WeChatStub) -> None:
    tokens = []
    for _ in range(2):
        _, response = await client.post("/api/v1/auth/login", json={"code": wechat_stub.issue_code(OPENID)})
        tokens.append(response.json["token"])
    subjects = {token.split(".")[0] for token in tokens}
    assert len(tokens) == 2 and subjects, "both logins succeed"


async def test_unknown_code_is_401(client: Any) -> None:
    _, response = await client.post("/api/v1/auth/login", json={"code": "0a1b2c3d"})
    assert response.status == 401 and response.json["code"] == "invalid_code"


async def test_rate_limit_45011_is_429(client: Any, wechat_stub: WeChatStub) -> None:
    wechat_stub.inject("jscode2session", 45011)
    _, response = await client.post("/api/v1/auth/login", json={"code": wechat_stub.issue_code(OPENID)})
    assert response.status == 429 and response.json["code"] == "login_rate_limited"


async def test_wechat_down_is_503(client: Any, wechat_stub: WeChatStub) -> None:
    wechat_stub.inject("jscode2session", 500)
    _, response = await client.post("/api/v1/auth/login", json={"code": wechat_stub.issue_code(OPENID)})
    assert response.status == 503 and response.json["code"] == "wechat_unavailable"


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": 5}, {"code": "a b"}, {"code": "x" * 200}, [1]])
async def test_malformed_bodies_are_400(client: Any, body: Any) -> None:
    _, response = await client.post("/api/v1/auth/login", json=body)
    assert response.status == 400


async def test_without_mini_program_credentials_is_503(db_url: str, tmp_path: Path) -> None:
    client = create_app(make_settings(tmp_path, database_url=db_url)).asgi_client
    _, response = await client.post("/api/v1/auth/login", json={"code": "abc"})
    assert response.status == 503 and response.json["code"] == "wechat_not_configured"
