"""End to end through real HTTP: a slow answer is acknowledged with ``success`` within the budget and
then reaches the user through the outbox dispatcher (running in the server) and the WeChat API stub."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.wechat_inbound import APPID, PROBE_REPLY, TOKEN, WeChatSender, new_aes_key
from tests.wechat_servers import app_server


def test_slow_answer_is_pushed_once_through_the_stub(
    db_url: str, redis_url: str, key_prefix: str, tmp_path: Path, wechat_stub: Any
) -> None:
    aes_key = new_aes_key()
    env = {
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": key_prefix,
        "MQTT_URL": os.environ.get("MQTT_URL", ""),
        "RUN_EMBEDDED_WORKERS": "true",
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APPID": APPID,
        "WECHAT_SECRET": "s3cret",
        "WECHAT_AES_KEY": aes_key,
        "WECHAT_API_BASE": wechat_stub.base_url,
        "WECHAT_REPLY_BUDGET_S": "0.5",
        "OUTBOX_POLL_INTERVAL_S": "0.2",
        "WECHAT_PROBE_KEY": f"{key_prefix}probe",
        "WECHAT_PROBE_DELAY_S": "1.5",
    }
    if not env["MQTT_URL"]:
        pytest.skip("MQTT_URL is not set: the embedded workers need a broker")
    sender = WeChatSender(aes_key=aes_key)
    with app_server(tmp_path / "server", **env) as url:
        xml = sender.text("你好")
        params, body = sender.request(xml)
        started = time.monotonic()
        response = httpx.post(f"{url}/wechat/callback", params=params, content=body, timeout=10)
        elapsed = time.monotonic() - started
        assert (response.status_code, response.text) == (200, "success")
        assert elapsed < 1.5, f"the acknowledgement took {elapsed:.2f}s"
        params, body = sender.request(xml)  # WeChat retries once more
        assert httpx.post(f"{url}/wechat/callback", params=params, content=body, timeout=10).text == "success"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            pushed = [item for item in wechat_stub.sent if item["openid"] == sender.openid]
            if pushed:
                break
            time.sleep(0.2)
        time.sleep(1.0)  # anything sent twice would show up by now
        pushed = [
            (item["api"], item["content"]) for item in wechat_stub.sent if item["openid"] == sender.openid
        ]
        assert pushed == [("custom", PROBE_REPLY)]
