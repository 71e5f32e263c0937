"""Pytest plugin: ``pytest_plugins = ["tests.wechat_stub.plugin"]`` gives the ``wechat_stub`` fixture.

One stub server runs per test session; each test gets it reset (no sent messages, tokens, faults).
Point the settings at it: ``wechat_api_base=wechat_stub.base_url, wechat_appid="wx-test",
wechat_secret="s3cret"`` (mini-program: ``wxa_appid="wxa-test", wxa_secret="wxa-s3cret"``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.wechat_stub.server import WeChatStub

STUB_APPS = {"wx-test": "s3cret", "wxa-test": "wxa-s3cret"}


@pytest.fixture(scope="session")
def _wechat_stub_server() -> Iterator[WeChatStub]:
    stub = WeChatStub(STUB_APPS)
    yield stub
    stub.close()


@pytest.fixture
def wechat_stub(_wechat_stub_server: WeChatStub) -> Iterator[WeChatStub]:
    _wechat_stub_server.reset()
    yield _wechat_stub_server
    _wechat_stub_server.reset()


def stub_settings(stub: WeChatStub) -> dict[str, object]:
    """Settings overrides that point every WeChat call at the stub."""
    return {
        "wechat_api_base": stub.base_url,
        "wechat_appid": "wx-test",
        "wechat_secret": "s3cret",
        "wxa_appid": "wxa-test",
        "wxa_secret": "wxa-s3cret",
        "wechat_timeout_s": 2.0,
    }
