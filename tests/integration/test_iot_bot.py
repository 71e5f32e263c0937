"""The bot's alerts dialogues: bind_site (project code + one-time code, asked for when missing, and the
QR ``bind:<code>`` hook) and query_environment (the public summary of a project's site)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from adapters.infrastructure import Infrastructure
from adapters.memory import MemoryCache, MemoryDedupStore, MemoryEventBus, MemoryGeoIndex, MemoryLock
from bot.dialogue.engine import DialogueEngine, UserInput
from bot.dialogue.registry import IntentTable
from bot.dialogue.types import BotDeps
from bot.dialogues import alerts as alerts_dialogue
from domain.alerts import bindings, readings
from domain.alerts.readings import AggregateRow
from nlu.factory import build_engine
from tests.conftest import make_settings
from tests.integration.iot_helpers import make_site

SITE = "WL-2026-0031-S1"
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def engine(tmp_path: Path) -> DialogueEngine:
    infra = Infrastructure(
        bus=MemoryEventBus(),
        dedup=MemoryDedupStore(),
        lock=MemoryLock(),
        cache=MemoryCache(),
        geo=MemoryGeoIndex(),
        redis_backed=False,
    )
    deps = BotDeps(
        settings=make_settings(tmp_path),
        infra=infra,
        nlu=build_engine(backend="embedded", data_dir=None, fallback_threshold=0.45),
    )
    return DialogueEngine(deps, IntentTable(alerts_dialogue.DIALOGUES))


async def test_bind_with_project_and_code_asking_for_what_is_missing(
    database: str, engine: DialogueEngine
) -> None:
    await make_site()
    issued = await bindings.issue_binding_code(site_code=SITE, issued_by="staff:1", at=NOW)
    first = await engine.respond("oManagerBot0000000001", UserInput(text="绑定工地 WL-2026-0031"), now=NOW)
    assert first == alerts_dialogue.ASK_CODE
    reply = await engine.respond("oManagerBot0000000001", UserInput(text=issued["code"]), now=NOW)
    assert "绑定成功" in reply and SITE in reply
    assert await bindings.sites_of("oManagerBot0000000001") == [SITE]
    again = await engine.respond(
        "oOther00000000000001", UserInput(text=f"绑定 WL-2026-0031 {issued['code']}"), now=NOW
    )
    assert again == f"{alerts_dialogue.BIND_FAILED['binding_code_used']}\n{alerts_dialogue.RETRY_CODE}"


async def test_qr_scene_hook_binds_in_one_scan(database: str) -> None:
    await make_site()
    issued = await bindings.issue_binding_code(site_code=SITE, issued_by="staff:1", at=NOW)
    assert "绑定成功" in await alerts_dialogue.bind_hook("oScan000000000000001", issued["code"], now=NOW)
    assert (
        await alerts_dialogue.bind_hook("oScan000000000000002", "NOPE", now=NOW)
        == (alerts_dialogue.BIND_FAILED["invalid_binding_code"])
    )


async def test_query_environment(database: str, engine: DialogueEngine) -> None:
    await make_site()
    minute = NOW.replace(second=0, microsecond=0) - dt.timedelta(minutes=3)
    await readings.store_aggregates(
        [AggregateRow(SITE, "WLDUST003101", "pm10", minute, 2, 150, 70, 80, 2, 150)]
    )
    reply = await engine.respond(
        "oCitizen000000000001", UserInput(text="WL-2026-0031 的PM10监测数据"), now=NOW
    )
    assert "PM10 75" in reply and "今日扬尘超标 0 次" in reply and "噪声 暂无" in reply
