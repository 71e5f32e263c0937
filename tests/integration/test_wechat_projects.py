"""Project-query dialogues over the seeded demo data, through the real callback (safe mode)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tortoise import Tortoise

from bot import messages
from config.app import create_app
from config.container import close_database
from config.database import tortoise_config
from config.seed import seed_demo_data
from domain.geo import gcj02_to_wgs84, haversine_m
from domain.projects.models import Project
from tests.conftest import make_settings
from tests.wechat_inbound import APPID, TOKEN, WeChatSender, new_aes_key, post, serving

AES_KEY = new_aes_key()


@pytest.fixture
async def app(db_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    await Tortoise.init(config=tortoise_config(db_url))
    await seed_demo_data(tmp_path)
    await close_database()
    settings = make_settings(
        tmp_path, database_url=db_url, wechat_token=TOKEN, wechat_appid=APPID, wechat_aes_key=AES_KEY
    )
    async with serving(create_app(settings)) as app:
        yield app


async def ask(app: Any, sender: WeChatSender, xml: str) -> str:
    status, reply, text = await post(app, sender, xml)
    assert status == 200, text
    assert reply.get("_encrypted") == "yes"
    return reply["Content"]


def _name_in(answer: str) -> str:
    match = re.match(r"【(.+?)】", answer)
    assert match, answer
    return match.group(1)


async def test_by_road_best_match_with_alternatives_then_follow_ups(app: Any) -> None:
    sender = WeChatSender(aes_key=AES_KEY)
    answer = await ask(app, sender, sender.text("万昌路那个工地在建什么"))
    best = await Project.get(name=_name_in(answer)).prefetch_related("contractor")
    assert "万昌" in best.name + best.road + best.address
    assert f"编号：{best.code}" in answer
    assert "阶段：" in answer and f"进度 {best.progress_pct}%" in answer
    assert f"施工单位：{best.contractor.name}" in answer if best.contractor else "施工单位：暂无" in answer
    assert "预计完工：" in answer
    alternatives = re.findall(r"^(\d)\. (.+?)（", answer, flags=re.MULTILINE)
    assert 1 <= len(alternatives) <= 4
    # A follow-up about the same project uses the context.
    follow_up = await ask(app, sender, sender.text("什么时候完工"))
    assert follow_up.startswith(f"【{best.name}】")
    assert "预计完工时间" in follow_up or "竣工" in follow_up
    # "2" picks the second alternative.
    picked = await ask(app, sender, sender.text("2")) if len(alternatives) >= 2 else None
    if picked is not None:
        assert _name_in(picked) == alternatives[1][1]


async def test_by_project_code(app: Any) -> None:
    sender = WeChatSender(aes_key=AES_KEY)
    project = await Project.filter().order_by("code").first()
    assert project is not None
    answer = await ask(app, sender, sender.text(f"{project.code.lower()} 进度怎么样"))
    assert answer.startswith(f"【{project.name}】") and f"{project.progress_pct}%" in answer


async def test_nearby_by_location_message_and_by_the_word(app: Any) -> None:
    sender = WeChatSender(aes_key=AES_KEY)
    lat, lng = 28.372, 121.372  # as WeChat sends it: GCJ-02; distances are measured in WGS-84
    answer = await ask(app, sender, sender.location(lat, lng, label="温岭市太平街道"))
    lat, lng = gcj02_to_wgs84(lat, lng)
    lines = re.findall(r"^\d\. (.+?)（(.+?)，(.+?)）$", answer, flags=re.MULTILINE)
    assert answer.startswith(messages.PROJECT_NEARBY_HEADER) and len(lines) == 5
    distances = []
    for name, _stage, distance in lines:
        same_name = await Project.filter(name=name).values_list("lat", "lng")  # demo names may repeat
        metres = min(haversine_m(lat, lng, p_lat, p_lng) for p_lat, p_lng in same_name)
        distances.append(metres)
        shown = (
            float(distance.removesuffix("公里")) * 1000 if distance.endswith("公里") else float(distance[:-1])
        )
        assert abs(shown - metres) <= 60
    assert distances == sorted(distances)
    # Later, "附近" uses the remembered location.
    again = await ask(app, sender, sender.text("附近有什么工地"))
    assert again == answer
    # Without a remembered location the bot asks for one, and the location message answers it.
    newcomer = WeChatSender(aes_key=AES_KEY)
    assert await ask(app, newcomer, newcomer.text("附近有什么工地")) == messages.PROJECT_ASK_LOCATION
    assert await ask(app, newcomer, newcomer.location(28.372, 121.372)) == answer


async def test_unknown_place_and_cancel(app: Any) -> None:
    sender = WeChatSender(aes_key=AES_KEY)
    answer = await ask(app, sender, sender.text("火星路的工地"))
    if answer.startswith("请问您想办理哪一项"):  # the NLU was unsure: pick "查询工程项目" by its number
        number = re.search(r"^(\d)\. 查询工程项目$", answer, flags=re.MULTILINE)
        assert number, answer
        answer = await ask(app, sender, sender.text(number.group(1)))
    assert answer == messages.PROJECT_NOT_FOUND.format(term="火星路")
    assert (
        await ask(app, sender, sender.event("CLICK", key="intent:query_project"))
        == messages.PROJECT_ASK_WHICH
    )
    assert await ask(app, sender, sender.text("算了")) == messages.CANCELLED
