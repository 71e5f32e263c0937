"""End to end, driven the way users drive it: an encrypted WeChat conversation reports night piling
with a location and a photo; the ticket is dispatched to the right site; a staff member replies through
the API and the citizen receives it at the WeChat API stub; 不满意 reopens the ticket; a second reply and
满意 close it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from adapters.wechat.dispatcher import build_dispatcher
from config.app import create_app
from config.container import close_database, init_tortoise
from domain.accounts.rules import Principal, Role, issue_token
from domain.geo import wgs84_to_gcj02
from tests.conftest import make_settings
from tests.integration.test_complaints_api import NEAR_A, png_bytes, seed_sites
from tests.wechat_inbound import APPID, TOKEN, WeChatSender, new_aes_key, post, serving
from tests.wechat_stub.plugin import stub_settings

AES_KEY = new_aes_key()
SECRET = "complaint-story-secret-0123456789abcdef"


def staff_headers() -> dict[str, str]:
    principal = Principal(subject="1", role=Role.STAFF, department="housing")
    value = issue_token(principal, secret=SECRET.encode(), now=dt.datetime.now(dt.UTC))
    return {"authorization": f"Bearer {value}"}


async def deliver(dispatcher: Any) -> None:
    """Run the dispatcher until a pass finds nothing due."""
    handled = await dispatcher.run_once()
    while handled:
        handled = await dispatcher.run_once()


def texts_to(stub: Any, openid: str) -> str:
    return "\n".join(str(m.get("content") or m) for m in stub.sent if m.get("openid") == openid)


async def test_night_piling_reported_in_wechat_is_answered_reopened_and_closed(
    db_url: str, tmp_path: Path, wechat_stub: Any, key_prefix: str
) -> None:
    await init_tortoise(db_url)
    await seed_sites()
    await close_database()
    settings = make_settings(
        tmp_path,
        database_url=db_url,
        secret_key=SECRET,
        redis_key_prefix=key_prefix,  # REDIS_URL may be set: keep this run's locks and state apart
        wechat_token=TOKEN,
        wechat_aes_key=AES_KEY,
        **(stub_settings(wechat_stub) | {"wechat_appid": APPID}),
    )
    sender = WeChatSender(aes_key=AES_KEY)
    wechat_stub.add_media("photo-1", png_bytes(), "image/png")
    async with serving(create_app(settings)) as app:

        async def say(xml: str) -> str:
            status, fields, _raw = await post(app, sender, xml)
            assert status == 200 and fields.get("_encrypted") == "yes", fields
            return fields.get("Content", "")

        # 1. The report: what and when from the first sentence, where from a location message, a photo.
        reply = await say(sender.text("工地半夜还在打桩，吵得睡不着"))
        for _ in range(4):
            if "位置" in reply:
                reply = await say(sender.location(*wgs84_to_gcj02(*NEAR_A), label="太平街道万昌中路"))
            elif "什么时候" in reply:
                reply = await say(sender.text("就是现在"))
            elif "哪类问题" in reply:
                reply = await say(sender.text("1"))
            else:
                break
        assert "夜间施工噪声" in reply and "确认提交" in reply, reply
        await say(sender.image("photo-1"))
        accepted = await say(sender.text("1"))
        assert accepted.startswith("已受理，工单号 TS"), accepted
        ticket_no = accepted.split("工单号 ")[1][:13]

        # 2. Dispatched to the site the location points at, with the photo.
        http = app.ctx.http
        # One dispatcher for the whole story: it keeps the outbox leadership between deliveries.
        dispatcher = await build_dispatcher(app.ctx.runtime)
        headers = staff_headers()
        ticket = (await http.get(f"/api/v1/complaints/{ticket_no}", headers=headers)).json()
        assert ticket["state"] == "dispatched" and ticket["site_code"] == "WL-2026-0031-S1"
        assert ticket["department"] == "housing" and len(ticket["photos"]) == 1
        assert ticket["nuisance_type"] == "night_noise"

        # 3. Staff reply through the API; the outbox delivers it to the citizen at the WeChat stub.
        for action in ("accept", "start"):
            assert (
                await http.post(f"/api/v1/staff/complaints/{ticket_no}/{action}", headers=headers)
            ).status_code == 200
        first = await http.post(
            f"/api/v1/staff/complaints/{ticket_no}/reply",
            json={"text": "已责令停止夜间打桩"},
            headers=headers,
        )
        assert first.status_code == 200 and first.json()["state"] == "follow_up"
        await deliver(dispatcher)
        assert "已责令停止夜间打桩" in texts_to(wechat_stub, sender.openid)

        # 4. 不满意 reopens it.
        status = await say(sender.text("我的投诉进度"))
        assert ticket_no in status and "3 不满意" in status, status
        # The rating's answer is pushed once by the complaints context (the passive reply is empty).
        status_code, fields, _raw = await post(app, sender, sender.text("不满意"))
        assert status_code == 200 and fields == {}
        await deliver(dispatcher)
        assert texts_to(wechat_stub, sender.openid).count("重新办理") == 1
        ticket = (await http.get(f"/api/v1/complaints/{ticket_no}", headers=headers)).json()
        assert ticket["state"] == "reopened"

        # 5. A second reply, then 满意 closes it.
        second = await http.post(
            f"/api/v1/staff/complaints/{ticket_no}/reply",
            json={"text": "已现场复查，夜间已停工"},
            headers=headers,
        )
        assert second.status_code == 200
        await deliver(dispatcher)
        assert "已现场复查，夜间已停工" in texts_to(wechat_stub, sender.openid)
        await say(sender.text("投诉进度"))
        status_code, fields, _raw = await post(app, sender, sender.text("满意"))
        assert status_code == 200 and fields == {}
        await deliver(dispatcher)
        assert texts_to(wechat_stub, sender.openid).count("已办结") == 1
        ticket = (await http.get(f"/api/v1/complaints/{ticket_no}", headers=headers)).json()
        assert ticket["state"] == "closed" and ticket["rating"] == "satisfied"
        actions = [step["action"] for step in ticket["timeline"]]
        assert actions.count("reply") == 2 and "rate_dissatisfied" in actions and "rate_satisfied" in actions
