"""The bot's check_credit dialogue: another enterprise's grade, and one's own latest changes and why."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from adapters.infrastructure import Infrastructure
from adapters.memory import MemoryCache, MemoryDedupStore, MemoryEventBus, MemoryGeoIndex, MemoryLock
from bot.dialogue.engine import DialogueEngine, UserInput
from bot.dialogue.registry import IntentTable
from bot.dialogue.types import BotDeps
from bot.dialogues import credit as credit_dialogue
from domain.accounts.models import Account
from domain.accounts.rules import Role
from domain.credit import services
from domain.credit.rules import SubjectKind
from domain.credit.tabular import RecordDraft
from domain.projects.rules import uscc_check_char
from nlu.factory import build_engine
from tests.conftest import make_settings

MINE = "91331081MA0000101" + uscc_check_char("91331081MA0000101")
THEIRS = "91331081MA0000102" + uscc_check_char("91331081MA0000102")
OPENID = "oWX-enterprise-user-0001"
NOW = dt.datetime(2026, 5, 20, 2, 0, tzinfo=dt.UTC)


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
    return DialogueEngine(deps, IntentTable(credit_dialogue.DIALOGUES))


async def _seed() -> None:
    catalogue = services.rule_catalogue()
    await Account.create(openid=OPENID, role=Role.ENTERPRISE, enterprise_uscc=MINE)
    for uscc, name, record_type, ref in (
        (MINE, "温岭市自家建设有限公司", "noise_penalty", "温综执罚〔2026〕31号"),
        (THEIRS, "温岭市别家建设有限公司", "award_municipal", "台建奖〔2026〕5号"),
    ):
        await services.add_record(
            RecordDraft(
                SubjectKind.ENTERPRISE, uscc, record_type, dt.date(2026, 4, 2), ref, subject_name=name
            ),
            catalogue=catalogue,
            actor="staff:1",
            now=dt.datetime(2026, 4, 2, 2, 0, tzinfo=dt.UTC),
            needs_review=False,
        )


async def test_own_enterprise_gets_the_reason(database: str, engine: DialogueEngine) -> None:
    await _seed()
    reply = await engine.respond(OPENID, UserInput(text="我公司信用评分为什么被扣分了"), now=NOW)
    assert "温岭市自家建设有限公司" in reply and "信用分 97" in reply
    assert "扣3分：施工噪声行政处罚" in reply and "温综执罚〔2026〕31号" in reply and "2026-10-02" in reply


async def test_other_enterprise_gets_grade_only_and_unbound_users_are_told(
    database: str, engine: DialogueEngine
) -> None:
    await _seed()
    reply = await engine.respond("oWX-citizen-0002", UserInput(text="查一下别家建设的信用分"), now=NOW)
    assert "温岭市别家建设有限公司" in reply and "信用等级 B" in reply and "103" in reply
    assert "台建奖" not in reply  # the reasons are the enterprise's own business
    assert "尚未关联企业账号" in await engine.respond(
        "oWX-citizen-0002", UserInput(text="我们公司信用怎么样"), now=NOW
    )


async def test_asks_for_the_company_then_offers_choices(database: str, engine: DialogueEngine) -> None:
    await _seed()
    assert (
        await engine.respond("oWX-citizen-0003", UserInput(text="信用查询"), now=NOW)
        == credit_dialogue.ASK_COMPANY
    )
    choices = await engine.respond("oWX-citizen-0003", UserInput(text="温岭市"), now=NOW)
    assert "1." in choices and "2." in choices
    picked = await engine.respond("oWX-citizen-0003", UserInput(text="2"), now=NOW)
    assert "信用等级" in picked
