"""The dialogue engine with in-process ports: slots, re-prompts, cancel, choices, expiry, clarification."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from adapters import memory
from adapters.infrastructure import Infrastructure
from bot import messages
from bot.dialogue import BotDeps, DialogueEngine, IntentSpec, IntentTable, Reply, SlotSpec, Turn, UserInput
from bot.dialogue.registry import load_dialogues
from bot.dialogue.store import load_state, save_state

# KeywordNlu here is the fallback parser under test and a fast stand-in for engine mechanics; the
# journeys through the production NLU engine are the conversation stories (tests/stories).
from bot.keyword_nlu import KeywordNlu, parse_keywords
from config.settings import Settings
from nlu.interface import ParseResult

NOW = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)
OPENID = "oUnitTestUser000000000001"


class ScriptedNlu:
    """Returns a fixed parse per text; anything else is a low-confidence fallback."""

    def __init__(self, parses: dict[str, ParseResult]) -> None:
        self.parses = parses

    async def parse(self, text: str) -> ParseResult:
        return self.parses.get(text) or ParseResult(
            text=text,
            intent="nlu_fallback",
            confidence=0.2,
            ranking=(("nlu_fallback", 0.2), ("report_nuisance", 0.15), ("human_agent", 0.1)),
        )


def _deps(tmp_path: Path, nlu: Any) -> BotDeps:
    infra = Infrastructure(
        bus=memory.MemoryEventBus(),
        dedup=memory.MemoryDedupStore(),
        lock=memory.MemoryLock(),
        cache=memory.MemoryCache(),
        geo=memory.MemoryGeoIndex(),
        redis_backed=False,
    )
    return BotDeps(settings=Settings(data_dir=tmp_path), infra=infra, nlu=nlu)


def _nuisance_table(calls: list[dict[str, Any]]) -> IntentTable:
    async def report(turn: Turn) -> Reply:
        calls.append(dict(turn.slots) | {"evidence": list(turn.state.evidence)})
        return Reply(f"已登记：{turn.slots['kind']}，{turn.slots['place']}")

    def kind(turn: Turn) -> str | None:
        return next((k for k in ("噪音", "扬尘") if k in turn.text), None)

    def place(turn: Turn) -> str | None:
        return turn.text if turn.text.endswith("路") else None

    async def human(turn: Turn) -> Reply:
        return Reply(messages.HUMAN_QUEUED)

    return IntentTable(
        [
            IntentSpec(
                "report_nuisance",
                report,
                slots=(SlotSpec("kind", "什么问题？", kind), SlotSpec("place", "在哪条路？", place)),
            ),
            IntentSpec("human_agent", human),
        ]
    )


def _nlu() -> ScriptedNlu:
    return ScriptedNlu(
        {
            "我要投诉": ParseResult(text="我要投诉", intent="report_nuisance", confidence=0.95),
            "工地噪音": ParseResult(text="工地噪音", intent="report_nuisance", confidence=0.9),
            "转人工": ParseResult(text="转人工", intent="human_agent", confidence=0.99),
            "查信用": ParseResult(text="查信用", intent="check_credit", confidence=0.9),
        }
    )


async def _say(engine: DialogueEngine, text: str, *, at: dt.datetime = NOW) -> str:
    return await engine.respond(OPENID, UserInput(text=text), now=at)


async def test_slots_are_filled_with_reprompts_then_the_handler_runs_once(tmp_path: Path) -> None:
    calls: list[dict[str, Any]] = []
    engine = DialogueEngine(_deps(tmp_path, _nlu()), _nuisance_table(calls))
    assert await _say(engine, "我要投诉") == "什么问题？"
    assert await _say(engine, "嗯") == "什么问题？"  # re-prompt
    assert await _say(engine, "工地噪音") == "在哪条路？"
    assert await engine.add_evidence(OPENID, "abc.jpg", now=NOW) is True
    assert await _say(engine, "万昌中路") == "已登记：噪音，万昌中路"
    assert calls == [{"kind": "噪音", "place": "万昌中路", "evidence": ["abc.jpg"]}]
    assert await _say(engine, "万昌中路") != "已登记：噪音，万昌中路"  # the dialogue is over


async def test_too_many_reprompts_end_the_dialogue(tmp_path: Path) -> None:
    engine = DialogueEngine(_deps(tmp_path, _nlu()), _nuisance_table([]))
    await _say(engine, "我要投诉")
    assert await _say(engine, "嗯") == "什么问题？"
    assert await _say(engine, "啊") == "什么问题？"
    assert await _say(engine, "哦") == messages.TOO_MANY_REPROMPTS


@pytest.mark.parametrize("word", ["取消", "算了"])
async def test_cancel_words_end_the_dialogue(tmp_path: Path, word: str) -> None:
    calls: list[dict[str, Any]] = []
    engine = DialogueEngine(_deps(tmp_path, _nlu()), _nuisance_table(calls))
    await _say(engine, "我要投诉")
    assert await _say(engine, word) == messages.CANCELLED
    assert await _say(engine, word) == messages.NOTHING_TO_CANCEL
    assert calls == []


async def test_abandoned_dialogue_expires(tmp_path: Path) -> None:
    engine = DialogueEngine(_deps(tmp_path, _nlu()), _nuisance_table([]))
    await _say(engine, "我要投诉")
    later = NOW + dt.timedelta(minutes=11)
    reply = await _say(engine, "工地噪音", at=later)
    assert reply.startswith(messages.EXPIRED_HINT)
    assert reply.endswith("在哪条路？")  # a fresh dialogue started from this message


async def test_low_confidence_asks_with_numbered_choices_and_a_number_answers(tmp_path: Path) -> None:
    calls: list[dict[str, Any]] = []
    engine = DialogueEngine(_deps(tmp_path, _nlu()), _nuisance_table(calls))
    question = await _say(engine, "晚上吵得睡不着噪音")
    assert question.startswith("请问您想办理哪一项")
    assert "1. 反映施工扰民" in question and "2. 转人工客服" in question
    assert await _say(engine, "7") == messages.INVALID_CHOICE.format(count=2)
    assert await _say(engine, "1") == "在哪条路？"  # the original text already said 噪音
    assert await _say(engine, "九龙大道路") == "已登记：噪音，九龙大道路"
    assert calls[0]["kind"] == "噪音"


async def test_a_new_confident_intent_interrupts_slot_filling(tmp_path: Path) -> None:
    engine = DialogueEngine(_deps(tmp_path, _nlu()), _nuisance_table([]))
    await _say(engine, "我要投诉")
    assert await _say(engine, "转人工") == messages.HUMAN_QUEUED
    assert await _say(engine, "查信用") == messages.NOT_AVAILABLE  # an intent nobody registered yet


async def test_a_stored_slot_of_the_wrong_type_is_asked_again_not_handed_to_the_handler(
    tmp_path: Path,
) -> None:
    calls: list[dict[str, Any]] = []
    engine = DialogueEngine(_deps(tmp_path, _nlu()), _nuisance_table(calls))
    await _say(engine, "我要投诉")
    cache = engine.deps.infra.cache
    state = await load_state(cache, OPENID)
    state.slots = {"kind": 7, "stale": "from an older version"}  # a corrupted or an older state
    state.awaiting = "place"
    await save_state(cache, OPENID, state)
    assert await _say(engine, "万昌中路") == "什么问题？"  # "kind" is asked again, the place is kept
    assert await _say(engine, "工地噪音") == "已登记：噪音，万昌中路"
    assert calls[0]["kind"] == "噪音" and "stale" not in calls[0]


async def test_an_extractor_returning_another_type_is_not_understood(tmp_path: Path) -> None:
    async def report(turn: Turn) -> Reply:
        return Reply(f"已登记：{turn.slots['place']}")

    table = IntentTable(
        [
            IntentSpec(
                "report_nuisance",
                report,
                slots=(SlotSpec("place", "在哪里？", lambda turn: turn.text, kind=dict),),
            )
        ]
    )
    engine = DialogueEngine(_deps(tmp_path, _nlu()), table)
    assert await _say(engine, "我要投诉") == "在哪里？"  # a text is not a place mapping
    assert await _say(engine, "万昌中路") == "在哪里？"


async def test_state_is_per_user(tmp_path: Path) -> None:
    engine = DialogueEngine(_deps(tmp_path, _nlu()), _nuisance_table([]))
    await _say(engine, "我要投诉")
    other = await engine.respond("oSomeoneElse0000000000002", UserInput(text="万昌中路"), now=NOW)
    assert other != "已登记：噪音，万昌中路"
    assert await _say(engine, "工地噪音") == "在哪条路？"


def test_the_dialogue_modules_register_their_intents() -> None:
    table = load_dialogues()
    assert {"query_project", "human_agent", "greet", "goodbye"} <= set(table.intents())


@pytest.mark.parametrize(
    ("text", "intent", "entity"),
    [
        ("万昌路那个工地在建什么", "query_project", ("location", "万昌路")),
        ("请问万昌中路的工地什么时候完工", "query_project", ("location", "万昌中路")),
        ("WL-2026-0031 进度", "query_project", ("project_code", "WL-2026-0031")),
        ("转人工", "human_agent", None),
        ("晚上工地噪音太吵", "report_nuisance", None),
        ("附近有什么工地", "query_project", None),
    ],
)
def test_keyword_parser(text: str, intent: str, entity: tuple[str, str] | None) -> None:
    parse = parse_keywords(text)
    assert parse.intent == intent
    assert parse.confidence >= 0.45
    if entity is not None:
        found = parse.first(entity[0])
        assert found is not None and found.value == entity[1]
        assert text[found.start : found.end] == entity[1]


async def test_keyword_parser_falls_back_when_it_knows_nothing() -> None:
    parse = await KeywordNlu().parse("今天天气怎么样")
    assert parse.intent == "nlu_fallback" and parse.confidence < 0.45
