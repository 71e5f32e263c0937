"""End to end: an encrypted WeChat "工地塔吊倒了有人受伤" with a location becomes an incident with a
generated plan, the duty staff and dispatched resources are notified at the WeChat API stub, and the
staff board shows it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters.wechat.dispatcher import build_dispatcher
from config.app import create_app
from config.container import close_database, init_tortoise
from config.seed import seed_demo_data
from tests.conftest import make_settings
from tests.wechat_inbound import APPID, TOKEN, WeChatSender, new_aes_key
from tests.wechat_stub.plugin import stub_settings

AES_KEY = new_aes_key()


async def test_crane_collapse_reported_in_wechat_reaches_the_board_and_the_rescuers(
    db_url: str, tmp_path: Path, wechat_stub: Any, redis_url: str, key_prefix: str
) -> None:
    # The ASGI test client restarts the app per request, so the conversation state (the cache port)
    # must live in the real Redis, as it does in production.
    await init_tortoise(db_url)
    passwords = {user: password for user, password, _role in await seed_demo_data(tmp_path)}
    await close_database()
    settings = make_settings(
        tmp_path,
        database_url=db_url,
        wechat_token=TOKEN,
        wechat_aes_key=AES_KEY,
        redis_url=redis_url,
        redis_key_prefix=key_prefix,
        **(stub_settings(wechat_stub) | {"wechat_appid": APPID}),
    )
    app = create_app(settings)
    client = app.asgi_client
    sender = WeChatSender(aes_key=AES_KEY)

    async def say(xml: str) -> dict[str, str]:
        params, body = sender.request(xml)
        _, response = await client.post("/wechat/callback", params=params, content=body)
        assert response.status == 200
        return sender.read_reply(response.body)

    first = await say(sender.text("工地塔吊倒了有人受伤"))
    assert first.get("_encrypted") == "yes"
    assert "120" in first["Content"] and "119" in first["Content"] and "位置" in first["Content"]
    located = await say(sender.location(28.3746, 121.3805, label="太平街道万昌中路"))
    assert "已收到位置" in located["Content"]

    _, login = await client.post(
        "/api/v1/auth/staff-login", json={"username": "emergency", "password": passwords["emergency"]}
    )
    headers = {"authorization": f"Bearer {login.json['token']}"}
    _, board = await client.get("/api/v1/emergency/incidents", headers=headers)
    [incident] = board.json["items"]
    assert incident["incident_type"] == "crane_collapse" and incident["source"] == "bot"
    assert incident["lat"] is not None
    code = incident["code"]
    _, plan = await client.get(f"/api/v1/emergency/incidents/{code}/plan", headers=headers)
    resources = [resource["code"] for resource in plan.json["resources"]]
    assert "FIRE-TP" in resources
    _, dispatched = await client.post(
        f"/api/v1/emergency/incidents/{code}/dispatch", json={"resources": resources}, headers=headers
    )
    assert dispatched.status == 200

    # The test client stopped the app after its last request; the dispatcher runs as its own worker.
    await init_tortoise(db_url)
    dispatcher = await build_dispatcher(app.ctx.runtime)
    await dispatcher.run_once()
    await close_database()
    reached = {message["openid"] for message in wechat_stub.sent}
    assert "demo-openid-emergency" in reached  # the duty staff, told at intake
    assert "demo-openid-fire-tp" in reached  # the fire station's contact, told at dispatch
    _, detail = await client.get(f"/api/v1/emergency/incidents/{code}", headers=headers)
    assert detail.json["status"] == "dispatched"
