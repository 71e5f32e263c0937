"""The real Rasa server (``make rasa``: trained on nlu/data, serving on RASA_URL with RASA_TOKEN), reached
through the client the app uses. Skipped only when RASA_URL is unset."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nlu.embedded.engine import EmbeddedEngine
from nlu.evaluate import evaluate
from nlu.rasa_client import BreakerState, RasaEngine
from nlu.training_data import load_training_data

RASA_URL = os.environ.get("RASA_URL", "")
RASA_TOKEN = os.environ.get("RASA_TOKEN", "")
SPLIT = Path(__file__).resolve().parent.parent / "nlu" / "test_split.yml"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not RASA_URL, reason="RASA_URL is not set: real Rasa server tests skipped"),
]


@pytest.fixture(scope="module")
def embedded() -> EmbeddedEngine:
    return EmbeddedEngine.load_or_train(cache_dir=None, fallback_threshold=0.45)


async def test_parse_through_the_client_against_the_real_server(embedded: EmbeddedEngine) -> None:
    engine = RasaEngine(url=RASA_URL, token=RASA_TOKEN, timeout_s=30, fallback=embedded)
    try:
        result = await engine.parse("万昌中路工地半夜12点还在施工，吵得睡不着")
        emergency = await engine.parse("塔吊倒了，快来人")
    finally:
        await engine.aclose()
    assert engine.fallbacks == 0, "the answers must come from Rasa, not the fallback"
    assert result.intent == "report_nuisance"
    assert any(e.extractor != "embedded" for e in result.entities)
    time = result.first("time")
    assert time is None or isinstance(time.value, dict)  # normalised like the embedded engine's
    assert emergency.intent == "report_emergency"


async def test_evaluate_the_held_out_split_through_rasa(embedded: EmbeddedEngine) -> None:
    engine = RasaEngine(url=RASA_URL, token=RASA_TOKEN, timeout_s=30, fallback=embedded)
    try:
        report = await evaluate(engine, load_training_data(SPLIT).examples)
    finally:
        await engine.aclose()
    assert engine.fallbacks == 0
    assert report.accuracy >= 0.85, report.errors  # DIET's own quality, measured, not the embedded gate
    assert report.entity.f1 >= 0.7


async def test_a_wrong_token_falls_back_to_the_embedded_engine(embedded: EmbeddedEngine) -> None:
    engine = RasaEngine(url=RASA_URL, token="not-the-token", timeout_s=30, fallback=embedded)
    try:
        result = await engine.parse("查一下投诉单TS20261102031")
    finally:
        await engine.aclose()
    assert engine.fallbacks == 1
    assert result.intent == "complaint_status"


async def test_an_unreachable_server_falls_back_and_opens_the_circuit(embedded: EmbeddedEngine) -> None:
    engine = RasaEngine(url="http://127.0.0.1:9", token=RASA_TOKEN, timeout_s=1, fallback=embedded)
    try:
        results = [await engine.parse("你好") for _ in range(4)]
    finally:
        await engine.aclose()
    assert {r.intent for r in results} == {"greet"}
    assert engine.fallbacks == 4
    assert engine.breaker.state is BreakerState.OPEN
