"""Two server processes sharing PostgreSQL and Redis: WeChat's retries never repeat a side effect."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from tests.wechat_inbound import APPID, PROBE_REPLY, TOKEN, WeChatSender, new_aes_key
from tests.wechat_servers import app_server


async def _deliver(client: httpx.AsyncClient, url: str, sender: WeChatSender, xml: str) -> str:
    params, body = sender.request(xml)  # each retry is signed afresh (new timestamp and nonce)
    response = await client.post(f"{url}/wechat/callback", params=params, content=body)
    assert response.status_code == 200, response.text
    return sender.read_reply(response.content).get("Content", "success")


async def test_three_concurrent_retries_across_two_processes_run_once(
    db_url: str, redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("two processes share the PostgreSQL database")
    aes_key = new_aes_key()
    probe_key = f"{key_prefix}probe-runs"
    env = {
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": key_prefix,
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APPID": APPID,
        "WECHAT_AES_KEY": aes_key,
        "WECHAT_PROBE_KEY": probe_key,
        "WECHAT_PROBE_DELAY_S": "1.0",
    }
    redis = Redis.from_url(redis_url, decode_responses=True)
    sender = WeChatSender(aes_key=aes_key)
    with contextlib.ExitStack() as stack:
        first = stack.enter_context(app_server(tmp_path / "a", **env))
        second = stack.enter_context(app_server(tmp_path / "b", **env))
        async with httpx.AsyncClient(timeout=10) as client:
            xml = sender.text("你好", msg_id=int(time.time() * 1000))
            answers = await asyncio.gather(
                _deliver(client, first, sender, xml),
                _deliver(client, second, sender, xml),
                _deliver(client, second, sender, xml),
            )
            assert sorted(answers) == [PROBE_REPLY, "success", "success"]
            assert await redis.get(probe_key) == "1"
            # A retry after the answer is ready gets the same answer, from either process.
            assert await _deliver(client, first, sender, xml) == PROBE_REPLY
            assert await _deliver(client, second, sender, xml) == PROBE_REPLY
            # An event is deduplicated by FromUserName + CreateTime + Event across processes too.
            event = sender.event("CLICK", key="intent:greet")
            events = await asyncio.gather(
                *(_deliver(client, url, sender, event) for url in (first, second, first))
            )
            assert sorted(events) == [PROBE_REPLY, "success", "success"]
            assert await redis.get(probe_key) == "2"
    await redis.delete(probe_key)
    await redis.aclose()
