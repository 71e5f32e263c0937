"""The Rasa backend: ``POST {RASA_URL}/model/parse`` through httpx, behind a timeout and a circuit
breaker, falling back to the embedded engine (and saying so in the log) whenever Rasa cannot answer.

Rasa's answer is normalised like the embedded engine's: time entities become ranges, identifiers are
upper-cased, so callers cannot tell the backends apart by the shape of ``value``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any, Protocol

import httpx

from nlu.embedded.lexicon import INCIDENT_CODES, INCIDENT_PATTERNS, NUISANCE_CODES, nuisance_code
from nlu.embedded.textnorm import normalise
from nlu.embedded.timeexpr import find_times
from nlu.interface import FALLBACK_INTENT, Entity, NluEngine, ParseResult

log = logging.getLogger(__name__)

MAX_RASA_CHARS = 2000  # DIET attends over tokens; a 10 KB letter costs seconds and says no more


class GazetteerEngine(NluEngine, Protocol):
    def refresh_gazetteer(
        self,
        *,
        projects: Iterable[tuple[str, str]] = (),
        companies: Iterable[str] = (),
        locations: Iterable[str] = (),
    ) -> int: ...


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Opens after ``failure_threshold`` consecutive failures; after ``reset_after_s`` one trial call
    is let through (half-open) and its outcome closes or re-opens the circuit."""

    def __init__(
        self,
        *,
        failure_threshold: int = 3,
        reset_after_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_after_s = reset_after_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self.reset_after_s:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self) -> bool:
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._trial_in_flight:
            self._trial_in_flight = True
            return True
        return False

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_in_flight = False

    def record_failure(self) -> None:
        self._failures += 1
        self._trial_in_flight = False
        if self._opened_at is not None or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()


def _normalised_value(entity: str, value: Any, text: str, reference: dt.datetime) -> Any:
    if entity in ("project_code", "ticket_id", "application_id") and isinstance(value, str):
        return value.strip().upper().replace("_", "-")
    if entity == "nuisance_type" and value not in NUISANCE_CODES:
        return nuisance_code(normalise(text), {})  # a surface form Rasa had no synonym for
    if entity == "incident_type" and value not in INCIDENT_CODES:
        norm = normalise(text)
        return next((code for code, pattern in INCIDENT_PATTERNS if pattern.search(norm)), "other")
    if entity == "time":
        mentions = find_times(normalise(text), reference=reference)
        return mentions[0].value if mentions else value
    return value


def from_rasa_json(text: str, payload: dict[str, Any], *, reference: dt.datetime) -> ParseResult:
    intent_block = payload.get("intent") or {}
    intent = intent_block.get("name") or FALLBACK_INTENT
    confidence = float(intent_block.get("confidence") or 0.0)
    entities = []
    for raw in payload.get("entities") or []:
        start, end = int(raw.get("start", 0)), int(raw.get("end", 0))
        surface = text[start:end]
        entities.append(
            Entity(
                entity=str(raw["entity"]),
                value=_normalised_value(str(raw["entity"]), raw.get("value"), surface, reference),
                start=start,
                end=end,
                text=surface,
                extractor=str(raw.get("extractor") or "rasa"),
                confidence=float(raw.get("confidence_entity") or 1.0),
            )
        )
    ranking = tuple(
        (str(item["name"]), float(item.get("confidence") or 0.0))
        for item in payload.get("intent_ranking") or []
    )
    return ParseResult(
        text=text, intent=str(intent), confidence=confidence, entities=tuple(entities), ranking=ranking
    )


class RasaEngine:
    def __init__(
        self,
        *,
        url: str,
        token: str,
        timeout_s: float,
        fallback: GazetteerEngine,
        breaker: CircuitBreaker | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._url = url.rstrip("/") + "/model/parse"
        self._params = {"token": token} if token else {}
        self._timeout = httpx.Timeout(timeout_s)
        self.fallback = fallback
        self.breaker = breaker or CircuitBreaker()
        self._client = client or httpx.AsyncClient(timeout=self._timeout)
        self.fallbacks = 0  # how many answers came from the embedded engine instead (for tests/metrics)

    async def parse(self, text: str) -> ParseResult:
        if not isinstance(text, str) or not text.strip() or not self.breaker.allow():
            return await self._fall_back(
                text, reason="circuit open" if self.breaker.state != "closed" else ""
            )
        try:
            response = await self._client.post(
                self._url, params=self._params, json={"text": text[:MAX_RASA_CHARS]}, timeout=self._timeout
            )
            response.raise_for_status()
            payload = response.json()
            result = from_rasa_json(text, payload, reference=dt.datetime.now(dt.UTC))
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            self.breaker.record_failure()
            return await self._fall_back(text, reason=f"{type(exc).__name__}: {exc}")
        self.breaker.record_success()
        return result

    async def _fall_back(self, text: str, *, reason: str) -> ParseResult:
        if reason:
            self.fallbacks += 1
            log.warning(
                "rasa NLU unavailable (%s, breaker %s); using the embedded engine", reason, self.breaker.state
            )
        return await self.fallback.parse(text)

    def refresh_gazetteer(
        self,
        *,
        projects: Iterable[tuple[str, str]] = (),
        companies: Iterable[str] = (),
        locations: Iterable[str] = (),
    ) -> int:
        return self.fallback.refresh_gazetteer(projects=projects, companies=companies, locations=locations)

    async def aclose(self) -> None:
        await self._client.aclose()
