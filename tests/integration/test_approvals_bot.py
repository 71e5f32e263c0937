"""The approval dialogues on a real database: progress by application id or by the user's own, and
procedure questions answered from the catalogue."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from adapters import memory
from adapters.infrastructure import Infrastructure
from bot.dialogue.types import BotDeps, ConversationState, Turn
from bot.dialogues.approvals import ask_procedure, query_approval
from config.settings import Settings
from domain.approvals import reviews, services
from domain.approvals.models import ReviewTask
from domain.approvals.rules import TaskDecision
from nlu.interface import Entity, ParseResult
from tests.integration.approvals_helpers import (
    ENTERPRISE_A,
    FIELDS,
    OPENID_A,
    PROJECT,
    T0,
    make_env,
    permit_uploads,
    staff,
)

pytestmark = pytest.mark.usefixtures("database")


def turn(
    tmp_path: Path, text: str, *, intent: str, openid: str = "oCITIZEN-000000001", **kwargs: Any
) -> Turn:
    infra = Infrastructure(
        bus=memory.MemoryEventBus(),
        dedup=memory.MemoryDedupStore(),
        lock=memory.MemoryLock(),
        cache=memory.MemoryCache(),
        geo=memory.MemoryGeoIndex(),
        redis_backed=False,
    )
    deps = BotDeps(settings=Settings(data_dir=tmp_path), infra=infra, nlu=None, approvals=make_env(tmp_path))  # type: ignore[arg-type]
    parse = ParseResult(text=text, intent=intent, confidence=0.9, entities=kwargs.pop("entities", ()))
    return Turn(
        openid=openid,
        text=text,
        parse=parse,
        state=ConversationState(),
        deps=deps,
        now=kwargs.pop("now", T0 + dt.timedelta(hours=1)),
        **kwargs,
    )


async def test_query_by_application_id_names_reviewing_departments_and_due_dates(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    draft = await services.create_draft(
        env, ENTERPRISE_A, project_code=PROJECT, stage="construction_permit", fields=FIELDS, now=T0
    )
    await services.upload_materials(env, ENTERPRISE_A, draft.code, uploads=permit_uploads(), now=T0)
    await services.submit(env, ENTERPRISE_A, draft.code, now=T0)
    housing = await ReviewTask.get(application_id=draft.id, department="housing")
    await reviews.decide(env, staff("housing"), housing.id, decision=TaskDecision.APPROVE, comment="", now=T0)
    entity = Entity(entity="application_id", value=draft.code, start=0, end=11)
    reply = await query_approval(
        turn(tmp_path, f"{draft.code} 办到哪了", intent="query_approval", entities=(entity,))
    )
    assert draft.code in reply.text and "施工许可" in reply.text and "审查中" in reply.text
    assert "消防救援大队（截止 2026-03-09）" in reply.text
    assert "住建局" not in reply.text.split("正在审查")[1].split("\n")[0]
    missing = await query_approval(turn(tmp_path, "SP2026-9999 进度", intent="query_approval"))
    assert "没有查到办件 SP2026-9999" in missing.text


async def test_query_own_applications_lists_what_is_missing(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    draft = await services.create_draft(
        env, ENTERPRISE_A, project_code=PROJECT, stage="construction_permit", fields=FIELDS, now=T0
    )
    reply = await query_approval(turn(tmp_path, "我的审批办到哪了", intent="query_approval", openid=OPENID_A))
    assert (
        draft.code in reply.text
        and "草稿" in reply.text
        and "尚缺材料" in reply.text
        and "营业执照" in reply.text
    )
    nobody = await query_approval(turn(tmp_path, "我的审批办到哪了", intent="query_approval"))
    assert "没有查到您名下" in nobody.text


async def test_ask_procedure_answers_materials_and_time_limits(tmp_path: Path) -> None:
    reply = await ask_procedure(turn(tmp_path, "办理施工许可需要准备哪些材料", intent="ask_procedure"))
    assert "【施工许可】" in reply.text and "住建局" in reply.text and "15 个工作日" in reply.text
    assert "施工图设计文件" in reply.text and "总建筑面积>5000平方米时必交" in reply.text
    assert reply.text.count("营业执照") == 1
    item = await ask_procedure(turn(tmp_path, "施工图审查要什么材料", intent="ask_procedure"))
    assert "【施工图审查】" in item.text and "岩土工程勘察报告" in item.text and "10 个工作日" in item.text
    menu = await ask_procedure(turn(tmp_path, "审批流程是怎样的", intent="ask_procedure"))
    assert len(menu.choices) == 4 and "竣工验收" in menu.text
    chosen = await ask_procedure(turn(tmp_path, "4", intent="ask_procedure", choice=menu.choices[3][1]))
    assert "【竣工验收】" in chosen.text and "城建档案馆" in chosen.text


async def test_a_procedure_question_misread_as_a_status_query_still_gets_the_procedure(
    tmp_path: Path,
) -> None:
    # The keyword parser sends anything with "施工许可" to query_approval.
    reply = await query_approval(turn(tmp_path, "办理施工许可需要准备哪些材料", intent="query_approval"))
    assert "【施工许可】" in reply.text and "施工图设计文件" in reply.text


async def test_through_the_dialogue_engine_with_the_keyword_parser(tmp_path: Path) -> None:
    # KeywordNlu is the fallback parser (used when no NLU engine is configured); the journeys through
    # the production engine are the conversation stories (tests/stories, tests/integration/test_stories.py).
    from bot.dialogue.engine import DialogueEngine, UserInput  # noqa: PLC0415
    from bot.dialogue.registry import load_dialogues  # noqa: PLC0415
    from bot.keyword_nlu import KeywordNlu  # noqa: PLC0415
    from domain.accounts.models import Account  # noqa: PLC0415
    from domain.accounts.rules import Role  # noqa: PLC0415
    from domain.approvals.demo import DEMO_CODE, seed_demo_applications  # noqa: PLC0415
    from tests.integration.approvals_helpers import USCC_A  # noqa: PLC0415

    await seed_demo_applications(make_env(tmp_path), enterprise_uscc=USCC_A, project_code=PROJECT)
    await Account.create(openid="oWX-enterprise-0412", role=Role.ENTERPRISE, enterprise_uscc=USCC_A)
    base = turn(tmp_path, "", intent="")
    engine = DialogueEngine(
        BotDeps(
            settings=base.deps.settings,
            infra=base.deps.infra,
            nlu=KeywordNlu(),
            approvals=base.deps.approvals,
        ),
        load_dialogues(),
    )
    now = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
    by_code = await engine.respond("oWX-citizen-0001", UserInput(text=f"{DEMO_CODE}审批办到哪了"), now=now)
    assert DEMO_CODE in by_code and "住建局" in by_code and "消防救援大队" in by_code, by_code
    own = await engine.respond("oWX-enterprise-0412", UserInput(text="我的审批办到哪了"), now=now)
    assert DEMO_CODE in own, own
    procedure = await engine.respond(
        "oWX-citizen-0001", UserInput(text="办理施工许可需要准备哪些材料"), now=now
    )
    assert "施工图设计文件" in procedure, procedure
