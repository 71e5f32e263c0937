"""The city-day scenario is pure and seeded, its schedule is what a city sends (diurnal baselines,
offline spans, backlogs out of order, never-commissioned devices silent), the shipped rules on the
simulated clock raise exactly the injected list, and the checker catches every kind of miss."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter

import pytest

from adapters.config_files import load_rule_config
from domain.alerts.engine import RuleEngine
from domain.alerts.offline import MonitoredDevice
from domain.alerts.telemetry import make_reading
from iot_bridge.city_day.check import AlarmRow, EscalationRow, Outcome, judge
from iot_bridge.city_day.scenario import Kind, Scenario, build_scenario, is_night
from iot_bridge.city_day.values import schedule
from tests.integration.iot_helpers import RULES

DAY = dt.date(2026, 11, 23)


def hour_scenario(seed: int = 7) -> Scenario:
    return build_scenario(seed=seed, sites=30, day=DAY, start=dt.time(21, 40), hours=1.0)


@pytest.fixture(scope="module")
def city() -> Scenario:
    return build_scenario(seed=7, sites=900, day=DAY, interval_s=300, crane_interval_s=300)


def test_the_same_seed_builds_the_same_day_and_another_seed_another() -> None:
    assert hour_scenario(7) == hour_scenario(7)
    assert hour_scenario(7).injected != hour_scenario(8).injected


def test_a_city_day_has_the_size_and_the_mix_of_the_issue(city: Scenario) -> None:
    assert len(city.sites) == 900 and 2800 <= len(city.devices) <= 3300
    kinds = Counter(event.kind for event in city.injected)
    assert set(kinds) == set(Kind)
    offline = [e for e in city.injected if e.kind is Kind.OFFLINE]
    assert abs(len(offline) - 0.02 * len(city.devices)) <= 2
    assert len({e.site_code for e in offline}) == len(offline)  # one a site: one alarm each
    assert all(e.end - e.start >= 2 * 3600 for e in offline)  # offline for hours
    assert any(e.backlog for e in offline) and not all(e.backlog for e in offline)
    assert Counter(e.device_code for e in city.injected).most_common(1)[0][1] == 1
    permits = {s.code for s in city.sites if s.night_permit}
    for event in city.injected:
        if event.kind in (Kind.NIGHT_NOISE, Kind.PERMITTED_NIGHT_WORK):
            assert is_night(event.start) and is_night(event.end - 1)
            assert (event.site_code in permits) == (event.kind is Kind.PERMITTED_NIGHT_WORK)
    assert not city.uncommissioned & {e.device_code for e in city.injected}


def test_the_schedule_is_sent_in_order_with_late_backlogs_and_silent_devices() -> None:
    scenario = hour_scenario()
    messages = list(schedule(scenario))
    assert [m.send_at for m in messages] == sorted(m.send_at for m in messages)
    assert not {m.device.code for m in messages} & scenario.uncommissioned
    for event in (e for e in scenario.injected if e.kind is Kind.OFFLINE):
        own = [m for m in messages if m.device.code == event.device_code]
        assert not [m for m in own if event.start <= m.send_at < event.end]
        late = [m.at for m in own if event.start <= m.at < event.end]
        if event.backlog:
            assert late and late != sorted(late)  # caught up, out of order
            assert all(m.send_at >= event.end for m in own if m.at < m.send_at)
        else:
            assert late == []


def test_baselines_follow_the_working_day() -> None:
    scenario = build_scenario(seed=3, sites=20, day=DAY, hours=24.0, interval_s=300, crane_interval_s=300)
    quiet = {e.device_code for e in scenario.injected}
    noise: dict[str, list[float]] = {"day": [], "night": []}
    for message in schedule(scenario):
        if message.device.device_type == "noise" and message.device.code not in quiet:
            noise["night" if is_night(message.at) else "day"].append(message.values["leq_db"])
    assert max(noise["night"]) < 50 < max(noise["day"]) < 70


def replay(scenario: Scenario) -> Outcome:
    """The shipped rules over the schedule with the offline check on the simulated clock, no I/O:
    each (source, alarm type) raised is one alarm, as the create-or-update store makes it."""
    engine = RuleEngine(load_rule_config(RULES))
    permits = {s.code for s in scenario.sites if s.night_permit}
    devices = {d.code: d for d in scenario.devices}
    alarms: dict[tuple[str, str], AlarmRow] = {}

    def note(source: str, site: str, alarm_type: str, severity: str, at: float) -> None:
        row = alarms.get((source, alarm_type))
        rank = ["info", "warning", "major", "critical"]
        if row is None:
            alarms[(source, alarm_type)] = AlarmRow(
                len(alarms) + 1, source, alarm_type, severity, site, at, "", False
            )
        elif rank.index(severity) > rank.index(row.severity):
            alarms[(source, alarm_type)] = dataclasses.replace(row, severity=severity)

    messages = iter(schedule(scenario))
    pending = next(messages, None)
    tick = scenario.start + 60
    while tick <= scenario.end:
        while pending is not None and pending.send_at <= tick:
            device = pending.device
            reading = make_reading(
                device_code=device.code,
                site_code=device.site_code,
                device_type=device.device_type,
                at=dt.datetime.fromtimestamp(pending.at, dt.UTC),
                raw={k: (v, "N") for k, v in pending.values.items()},
            )
            permit = device.site_code in permits and is_night(pending.at)
            for outcome in engine.evaluate(reading, night_permit=permit):
                if outcome.kind == "raise":
                    note(
                        device.code, device.site_code, outcome.alarm_type, outcome.severity.value, pending.at
                    )
            pending = next(messages, None)
        monitored = {c: MonitoredDevice(d.site_code, d.interval_s, None) for c, d in devices.items()}
        for item in engine.check_offline(monitored, now=tick):
            if item.outcome.kind == "raise":
                note(item.source, item.site_code, item.outcome.alarm_type, item.outcome.severity.value, tick)
        tick += 60
    return Outcome(tuple(alarms.values()), (), ())


def test_the_shipped_rules_raise_exactly_the_injected_list_on_the_simulated_clock() -> None:
    scenario = hour_scenario()
    report = judge(scenario, replay(scenario))
    assert report.problems == []
    assert report.raised_once == report.expected == len(scenario.expected()) >= 10


def test_the_checker_catches_missing_double_wrong_unexplained_silent_and_unsettled() -> None:
    scenario = hour_scenario()
    good = replay(scenario)
    assert judge(scenario, good).ok
    first, second = good.alarms[0], good.alarms[1]
    silent = next(iter(scenario.uncommissioned))
    broken = Outcome(
        (
            *good.alarms[2:],
            first,
            dataclasses.replace(first, id=999),  # twice
            dataclasses.replace(second, severity="critical"),  # wrong severity (and nothing else for it)
            AlarmRow(
                1000, "WLDUST000201", "dust_pm10_15m", "warning", "WL-2026-0002-S1", scenario.start, "", False
            ),
            AlarmRow(
                1001, "site:X", "device_offline", "warning", "X", scenario.start, f"{silent} 离线", False
            ),
        ),
        (),
        (
            EscalationRow("alarm-escalation:1", "pending", False),
            EscalationRow("alarm-escalation:2", "fallback", False),
        ),
    )
    problems = " | ".join(judge(scenario, broken).problems)
    assert "2 alarms, expected 1" in problems
    assert "severity critical" in problems
    assert "unexplained: 1 x dust_pm10_15m from WLDUST000201" in problems
    assert f"never-commissioned {silent}" in problems
    assert "alarm-escalation:1 is pending" in problems and "alarm-escalation:2 is fallback" in problems
    missing = Outcome(good.alarms[1:], (), ())
    assert "0 alarms, expected 1" in " ".join(judge(scenario, missing).problems)
