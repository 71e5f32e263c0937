"""A reading that arrives while Redis or the database is unreachable waits for them: it is neither
dropped nor counted as an error, so the PUBACK that follows never covers a reading that was lost
(the fault soak lost five readings across a one-second Redis restart). A message that can never be
handled is still counted and let go, so it cannot stall the stream."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from iot_bridge import mqtt
from iot_bridge.mqtt import MqttIngest, MqttTarget


def ingest_failing_with(errors: list[Exception]) -> tuple[MqttIngest, list[str]]:
    pipeline: Any = SimpleNamespace(stats=Counter())
    ingest = MqttIngest(pipeline, target=MqttTarget("127.0.0.1", 1883), devices=dict)
    handled: list[str] = []

    async def handle(topic: str, payload: object) -> None:
        if errors:
            raise errors.pop(0)
        handled.append(topic)

    ingest.handle = handle  # type: ignore[method-assign]
    return ingest, handled


async def test_a_reading_waits_out_a_redis_outage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mqtt, "OUTAGE_RETRY_FIRST_S", 0.001)
    outage = [RedisConnectionError("Error 111 connecting"), ConnectionRefusedError(111, "refused")]
    ingest, handled = ingest_failing_with(outage)
    await ingest._handle_until_taken("wenling/S1/dust/D1/telemetry", b"{}")
    assert handled == ["wenling/S1/dust/D1/telemetry"]
    stats = ingest._pipeline.stats
    assert stats["outage_retries"] == 2 and stats["handle_errors"] == 0


async def test_a_message_that_can_never_be_handled_is_counted_and_let_go() -> None:
    ingest, handled = ingest_failing_with([ValueError("not a reading")])
    await ingest._handle_until_taken("wenling/S1/dust/D1/telemetry", b"{}")
    assert handled == [] and ingest._pipeline.stats["handle_errors"] == 1
