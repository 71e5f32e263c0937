"""Whatever a citizen sends, the engine answers with a valid result and never raises."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlu.embedded.engine import EmbeddedEngine
from nlu.interface import FALLBACK_INTENT, INTENTS

VALID = {*INTENTS, FALLBACK_INTENT}


@pytest.fixture(scope="module")
def engine() -> EmbeddedEngine:
    return EmbeddedEngine.load_or_train(cache_dir=None, fallback_threshold=0.45)


def _valid(engine: EmbeddedEngine, text: str) -> str:
    result = engine.parse_sync(text)
    assert result.intent in VALID
    assert 0.0 <= result.confidence <= 1.0
    json.dumps(result.to_rasa_json(), ensure_ascii=False)
    for entity in result.entities:
        assert 0 <= entity.start < entity.end <= len(text)
        assert text[entity.start : entity.end] == entity.text
    return result.intent


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_a_fallback(engine: EmbeddedEngine, text: str) -> None:
    assert _valid(engine, text) == FALLBACK_INTENT


@pytest.mark.parametrize("text", ["😀😀😀", "🙏", "。。。！！", "\x00\x01\x02", "?????"])
def test_text_without_words_is_out_of_scope(engine: EmbeddedEngine, text: str) -> None:
    assert _valid(engine, text) == "out_of_scope"


def test_ten_kilobytes(engine: EmbeddedEngine) -> None:
    text = "工地半夜施工太吵了。" * 1100
    assert len(text.encode()) > 10_000
    assert _valid(engine, text) == "report_nuisance"


def test_control_characters_inside_a_message(engine: EmbeddedEngine) -> None:
    assert _valid(engine, "工地\x00半夜\x1b[31m施工\r\n太吵") == "report_nuisance"


def test_traditional_chinese(engine: EmbeddedEngine) -> None:
    assert _valid(engine, "這個工地晚上十二點還在施工，噪音太大了") == "report_nuisance"


@pytest.mark.parametrize(
    "text", ["what is the weather like today", "asdfghjkl qwerty", "I want to buy a car"]
)
def test_pure_english_unrelated_to_building_sites(engine: EmbeddedEngine, text: str) -> None:
    assert _valid(engine, text) in ("out_of_scope", FALLBACK_INTENT)


async def test_async_parse_of_long_text_runs_off_the_loop(engine: EmbeddedEngine) -> None:
    result = await engine.parse("渣土车" * 2000)
    assert result.intent in VALID


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_valid_answer(text: str) -> None:
    engine = EmbeddedEngine.load_or_train(cache_dir=None, fallback_threshold=0.45)  # cached in process
    _valid(engine, text)
