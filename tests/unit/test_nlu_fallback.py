"""The confidence fallback, the circuit breaker, and the Rasa client falling back to the embedded engine."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from nlu.embedded import engine as engine_module
from nlu.embedded.engine import EmbeddedEngine
from nlu.factory import build_engine
from nlu.interface import FALLBACK_INTENT
from nlu.rasa_client import BreakerState, CircuitBreaker, RasaEngine


@pytest.fixture(scope="module")
def embedded() -> EmbeddedEngine:
    return EmbeddedEngine.load_or_train(cache_dir=None, fallback_threshold=0.45)


def test_below_the_threshold_the_intent_is_nlu_fallback() -> None:
    strict = EmbeddedEngine.load_or_train(cache_dir=None, fallback_threshold=0.999)
    result = strict.parse_sync("那个东西怎么弄")
    assert result.intent == FALLBACK_INTENT
    assert result.confidence == pytest.approx(0.999)
    assert result.ranking[0][0] == FALLBACK_INTENT
    assert len(result.ranking) > 1  # the real candidates stay visible, as in Rasa


def test_the_model_is_cached_on_disk_by_data_hash(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "_PROCESS_CACHE", {})  # as if in a fresh process
    first = build_engine(backend="embedded", data_dir=tmp_path, fallback_threshold=0.45)
    assert list((tmp_path / "nlu").glob(f"{engine_module.MODEL_VERSION}-*.npz"))
    monkeypatch.setattr(engine_module, "_PROCESS_CACHE", {})  # and again

    def no_training(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("must load from the cache, not train")

    monkeypatch.setattr(EmbeddedEngine, "train", no_training)
    second = build_engine(backend="embedded", data_dir=tmp_path, fallback_threshold=0.45)
    text = "查一下投诉单TS20261102031的进度"
    assert first.parse_sync(text) == second.parse_sync(text)  # type: ignore[attr-defined]


def _state(breaker: CircuitBreaker) -> BreakerState:
    return breaker.state


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_circuit_breaker_opens_then_lets_one_trial_through() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, reset_after_s=10, clock=clock)
    breaker.record_failure()
    assert breaker.allow()
    breaker.record_failure()
    assert _state(breaker) is BreakerState.OPEN
    assert not breaker.allow()
    clock.now = 11
    assert _state(breaker) is BreakerState.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()  # only one trial at a time
    breaker.record_failure()
    assert _state(breaker) is BreakerState.OPEN
    clock.now = 22
    assert breaker.allow()
    breaker.record_success()
    assert _state(breaker) is BreakerState.CLOSED


def _rasa_answer(request: httpx.Request) -> httpx.Response:
    assert request.url.params["token"] == "t0ken"
    return httpx.Response(
        200,
        json={
            "text": "x",
            "intent": {"name": "report_nuisance", "confidence": 0.93},
            "entities": [
                {"entity": "time", "value": "半夜12点", "start": 6, "end": 11, "extractor": "DIETClassifier"},
                {
                    "entity": "nuisance_type",
                    "value": "轰隆隆",
                    "start": 15,
                    "end": 18,
                    "extractor": "DIETClassifier",
                },
                {
                    "entity": "project_code",
                    "value": "wl-2026-0031",
                    "start": 0,
                    "end": 12,
                    "extractor": "DIETClassifier",
                },
            ],
            "intent_ranking": [{"name": "report_nuisance", "confidence": 0.93}],
        },
    )


async def test_rasa_answers_are_normalised(embedded: EmbeddedEngine) -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(_rasa_answer))
    engine = RasaEngine(url="http://rasa", token="t0ken", timeout_s=1, fallback=embedded, client=client)
    result = await engine.parse("万昌中路工地半夜12点还在施工，轰隆隆的声音")
    assert result.first("nuisance_type").value == "noise"  # type: ignore[union-attr]
    assert result.intent == "report_nuisance"
    assert isinstance(result.first("time").value, dict)  # type: ignore[union-attr]
    assert result.first("project_code").value == "WL-2026-0031"  # type: ignore[union-attr]
    assert engine.fallbacks == 0
    await engine.aclose()


async def test_rasa_down_falls_back_to_embedded_and_opens_the_circuit(
    embedded: EmbeddedEngine, caplog: pytest.LogCaptureFixture
) -> None:
    calls = 0

    def refuse(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("connection refused", request=request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
    breaker = CircuitBreaker(failure_threshold=3, reset_after_s=60)
    engine = RasaEngine(
        url="http://rasa", token="", timeout_s=1, fallback=embedded, breaker=breaker, client=client
    )
    with caplog.at_level(logging.WARNING, logger="nlu.rasa_client"):
        for _ in range(5):
            result = await engine.parse("塔吊倒了，快来人")
            assert result.intent == "report_emergency"
    assert calls == 3  # after three failures the breaker stops trying
    assert _state(breaker) is BreakerState.OPEN
    assert engine.fallbacks == 5
    assert "using the embedded engine" in caplog.text
    await engine.aclose()


async def test_a_rasa_error_status_or_garbage_also_falls_back(embedded: EmbeddedEngine) -> None:
    answers = iter([httpx.Response(500, text="boom"), httpx.Response(200, text="not json")])
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: next(answers)))
    engine = RasaEngine(url="http://rasa", token="", timeout_s=1, fallback=embedded, client=client)
    assert (await engine.parse("你好")).intent == "greet"
    assert (await engine.parse("你好")).intent == "greet"
    assert engine.fallbacks == 2
    await engine.aclose()
