"""A city hour, simulated (issue #16): 30 sites and ~100 devices play 21:40-22:40 of yesterday in
compressed time through the real Mosquitto and the bridge with the shipped rules, the offline check
and escalations on the simulated clock. Every injected violation and condition raises exactly one
alarm at its severity, nothing else alarms, a monitor that never reported is never named, and every
escalation is delivered or alerted. The full day is ``tests/bench/bench_city_day.py``."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import uuid
from pathlib import Path

import pytest

from adapters.config_files import load_rule_config
from adapters.infrastructure import Infrastructure
from domain.alerts import readings
from domain.alerts.engine import RuleEngine
from domain.alerts.models import Alarm, DeviceHealth
from iot_bridge.city_day.scenario import LOCAL_TZ, build_scenario
from iot_bridge.pipeline import Pipeline
from iot_bridge.storage import RingRawSink
from tests.integration.city_day import run_city_day, seed_registry, summary
from tests.integration.iot_helpers import RULES, make_site

SPEED = 240.0  # one simulated hour in 15 s


@pytest.fixture
def mqtt_url() -> str:
    url = os.environ.get("MQTT_URL")
    if not url:
        pytest.skip("MQTT_URL is not set: the city-hour simulation needs the real Mosquitto")
    return url


async def test_a_city_hour_raises_exactly_the_injected_alarms(
    database: str, mqtt_url: str, infra: Infrastructure
) -> None:
    yesterday = dt.datetime.now(LOCAL_TZ).date() - dt.timedelta(days=1)
    scenario = build_scenario(seed=7, sites=30, day=yesterday, start=dt.time(21, 40), hours=1.0)
    assert scenario.uncommissioned and any(e.backlog for e in scenario.injected)
    await seed_registry(scenario)
    run = await run_city_day(
        scenario, infra=infra, mqtt_url=mqtt_url, root=f"cityday{uuid.uuid4().hex[:8]}", speed=SPEED
    )
    figures = summary(run)
    assert run.report.problems == [], figures
    assert run.report.raised_once == run.report.expected >= 10
    assert run.stats.get("alarm_errors", 0) == 0 and run.stats.get("handle_errors", 0) == 0
    assert run.stats["late_readings"] > 0  # the backlog came in out of order, and raised nothing
    # The dust episode and the night noise without a permit stay major past 15 minutes.
    assert figures["escalations"] >= 2
    assert figures["manager_notices"] >= len({e.site_code for e in scenario.injected})
    # The never-commissioned monitor is listed as such, not as offline.
    silent = next(iter(scenario.uncommissioned))
    assert not await DeviceHealth.exists(device_code=silent)


async def test_an_offline_alarm_is_stamped_with_the_time_of_the_check(
    database: str, infra: Infrastructure, tmp_path: Path
) -> None:
    """The offline check decides at ``now``; the alarm used to take the wall clock of the worker
    that wrote it, so a replayed or delayed check put it hours (here, days) off its cause."""
    await make_site()
    devices = await readings.registered_devices()
    start = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
    await readings.store_aggregates(
        [
            readings.AggregateRow(d.site_code, code, "pm10", start, 1, 50, 50, 50, 1, 50)
            for code, d in devices.items()
        ]
    )
    pipeline = Pipeline(
        engine=RuleEngine(load_rule_config(RULES)), bus=infra.bus, cache=infra.cache, raw_sink=RingRawSink()
    )
    workers = asyncio.create_task(pipeline.run_alarm_workers())
    try:
        for seconds in (0, 300, 330):
            await pipeline.check_offline(devices, now=start + dt.timedelta(seconds=seconds))
        await pipeline.drain()
    finally:
        workers.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await workers
    alarm = await Alarm.get(alarm_type="device_offline")
    assert alarm.raised_at == start + dt.timedelta(seconds=300)
