"""The sensor rules over scripted time series: dust windows and daily exceedances, noise with the
22:00/06:00 Asia/Shanghai switch and the permit, crane bands at their boundaries, offline, hysteresis
and hold time, and state that survives a restart."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from adapters.config_files import load_rule_config
from domain.alerts.engine import RuleEngine
from domain.alerts.offline import MonitoredDevice
from domain.alerts.rules import Severity
from domain.alerts.sensor_rules import RuleConfig, is_night
from domain.alerts.telemetry import Reading, make_reading
from domain.alerts.thresholds import Outcome, ThresholdSpec, TrackerState, step

CONFIG = Path(__file__).resolve().parents[2] / "config" / "alert_rules.yml"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
SITE = "WL-2026-0031-S1"


def local(hour: int, minute: int = 0, day: int = 24) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(dt.UTC)


@pytest.fixture
def engine() -> RuleEngine:
    return RuleEngine(load_rule_config(CONFIG))


def dust(at: dt.datetime, pm10: float, pm25: float = 30, flag: str = "N", device: str = "D1") -> Reading:
    return make_reading(
        device_code=device,
        site_code=SITE,
        device_type="dust",
        at=at,
        raw={"pm10": (pm10, flag), "pm25": (pm25, "N")},
    )


def noise(at: dt.datetime, leq: float, lmax: float | None = None) -> Reading:
    raw = {"leq_db": (leq, "N")} | ({"lmax_db": (lmax, "N")} if lmax is not None else {})
    return make_reading(device_code="N1", site_code=SITE, device_type="noise", at=at, raw=raw)


def crane(at: dt.datetime, **values: float) -> Reading:
    return make_reading(
        device_code="C1",
        site_code=SITE,
        device_type="crane",
        at=at,
        raw={k: (v, "N") for k, v in values.items()},
    )


def kinds(outcomes: list[Outcome]) -> list[tuple[str, str, str]]:
    return [(o.kind, o.alarm_type, o.severity.value if o.kind == "raise" else "") for o in outcomes]


def run(engine: RuleEngine, readings: list[Reading], **kwargs: bool) -> list[Outcome]:
    out: list[Outcome] = []
    for reading in readings:
        out += engine.evaluate(reading, **kwargs)
    return out


# --- the tracker itself ---------------------------------------------------------------------------

SPEC = ThresholdSpec(
    "x", ((Severity.WARNING, 100.0), (Severity.MAJOR, 200.0)), deadband=10, hold_s=300, update_every_s=60
)


def test_exactly_at_the_limit_is_not_an_exceedance_unless_inclusive() -> None:
    assert step(SPEC, TrackerState(), 100.0, 0) is None
    inclusive = ThresholdSpec("x", ((Severity.WARNING, 100.0),), inclusive=True)
    assert step(inclusive, TrackerState(), 100.0, 0) == Outcome("raise", "x", Severity.WARNING, 100.0, 100.0)


def test_hysteresis_and_hold_time() -> None:
    state = TrackerState()
    assert step(SPEC, state, 101, 0) is not None
    assert step(SPEC, state, 95, 10) is None  # inside the deadband: no clear clock
    assert state.normal_since is None
    assert step(SPEC, state, 89, 20) is None  # normal: hold clock starts
    assert step(SPEC, state, 89, 319) is None
    assert step(SPEC, state, 101, 320) is not None or state.active  # back above: still the same alarm
    assert state.normal_since is None
    assert step(SPEC, state, 50, 400) is None
    assert step(SPEC, state, 50, 700) == Outcome("clear", "x", value=50)
    assert not state.active


def test_updates_are_rate_limited_but_severity_rises_immediately() -> None:
    state = TrackerState()
    step(SPEC, state, 150, 0)
    assert step(SPEC, state, 160, 30) is None
    assert step(SPEC, state, 160, 60) == Outcome("raise", "x", Severity.WARNING, 160, 100.0)
    assert step(SPEC, state, 250, 61) == Outcome("raise", "x", Severity.MAJOR, 250, 200.0)
    # Severity never drops while the alarm is open.
    assert step(SPEC, state, 150, 200) == Outcome("raise", "x", Severity.MAJOR, 150, 100.0)


def test_for_s_requires_the_condition_to_last() -> None:
    spec = ThresholdSpec("x", ((Severity.WARNING, 100.0),), for_s=900)
    state = TrackerState()
    assert step(spec, state, 120, 0) is None
    assert step(spec, state, 120, 899) is None
    assert step(spec, state, 120, 900) is not None


# --- dust -----------------------------------------------------------------------------------------


def test_dust_spike_raises_15_minute_then_hourly_alarms(engine: RuleEngine) -> None:
    start = local(10)
    calm = [dust(start + dt.timedelta(minutes=m), 60) for m in range(20)]
    assert run(engine, calm) == []
    spike = [dust(start + dt.timedelta(minutes=20 + m), 450) for m in range(15)]
    out = kinds(run(engine, spike))
    assert ("raise", "dust_pm10_15m", "warning") in out
    assert ("raise", "dust_pm10_15m", "major") in out
    assert ("raise", "dust_pm10_1h", "major") in out
    assert not any(t.startswith("dust_pm25") for _, t, _ in out)


def test_non_normal_flags_are_excluded_from_the_means(engine: RuleEngine) -> None:
    start = local(10)
    readings = [dust(start + dt.timedelta(minutes=m), 900, flag="C") for m in range(20)]
    assert run(engine, readings) == []
    out_of_range = [dust(start + dt.timedelta(minutes=30 + m), 99_999) for m in range(5)]
    assert run(engine, out_of_range) == []


def test_dust_alarm_clears_only_after_the_mean_falls_and_the_hold_time(engine: RuleEngine) -> None:
    start = local(10)
    run(engine, [dust(start + dt.timedelta(minutes=m), 400) for m in range(15)])
    clean = run(engine, [dust(start + dt.timedelta(minutes=15 + m), 20) for m in range(40)])
    clears = [(o.alarm_type, o.kind) for o in clean if o.kind == "clear"]
    assert ("dust_pm10_15m", "clear") in clears
    first_clear = next(
        i for i, o in enumerate(clean) if o.kind == "clear" and o.alarm_type == "dust_pm10_15m"
    )
    # the 15-min mean falls below 190 only after ~10 clean minutes, then 5 minutes of hold
    assert first_clear >= 1
    assert not any(o.kind == "raise" and o.alarm_type == "dust_pm10_15m" for o in clean[first_clear:])


def test_daily_exceedance_count(engine: RuleEngine) -> None:
    out: list[Outcome] = []
    for hour in (8, 9, 10, 11):
        level = 180 if hour < 11 else 50
        out += run(engine, [dust(local(hour, m), level, device="D2") for m in range(0, 60, 5)])
    out += run(engine, [dust(local(12, 0), 50, device="D2")])
    raised = [o for o in out if o.alarm_type == "dust_daily_exceedance"]
    assert raised and raised[0].kind == "raise" and raised[0].value == 3
    next_day = run(engine, [dust(local(8, 0, day=25), 50, device="D2")])
    assert ("clear", "dust_daily_exceedance", "") in kinds(next_day)


def test_county_delta_when_enabled() -> None:
    config = RuleConfig(
        {**load_rule_config(CONFIG).raw, "sites": {SITE: {"dust": {"county_delta": {"enabled": True}}}}}
    )
    engine = RuleEngine(config, county_pm10={SITE: 60})
    out = kinds(run(engine, [dust(local(10), 130)]))
    assert ("raise", "dust_county_delta", "warning") in out


def test_site_override_lowers_a_threshold() -> None:
    raw = load_rule_config(CONFIG).raw
    config = RuleConfig(
        {**raw, "sites": {SITE: {"dust": {"pm10_15m": {"bands": {"warning": 100}}, "min_samples_15m": 1}}}}
    )
    engine = RuleEngine(config)
    assert ("raise", "dust_pm10_15m", "warning") in kinds(run(engine, [dust(local(10), 120)]))
    other = RuleEngine(config)
    reading = make_reading(
        device_code="D9",
        site_code="WL-2026-0099-S1",
        device_type="dust",
        at=local(10),
        raw={"pm10": (120, "N")},
    )
    assert other.evaluate(reading) == []


# --- noise ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "minute", "night"),
    [(21, 59, False), (22, 0, True), (3, 0, True), (5, 59, True), (6, 0, False), (12, 0, False)],
)
def test_night_window_boundaries(hour: int, minute: int, night: bool) -> None:
    tz = dt.timezone(dt.timedelta(hours=8))
    assert is_night(local(hour, minute), start=dt.time(22), end=dt.time(6), tz=tz) is night


def test_60_db_is_fine_by_day_and_an_alarm_from_22_00(engine: RuleEngine) -> None:
    evening = [noise(local(21, m), 60) for m in range(50, 60)]
    assert run(engine, evening) == []
    out = kinds(run(engine, [noise(local(22, m), 60) for m in range(0, 3)]))
    assert ("raise", "noise_night_leq", "major") in out


def test_night_alarm_clears_after_06_00_and_day_limit_applies(engine: RuleEngine) -> None:
    run(engine, [noise(local(5, m), 60) for m in range(50, 60)])
    out = run(engine, [noise(local(6, m), 60) for m in range(0, 10)])
    assert ("clear", "noise_night_leq", "") in kinds(out)
    assert not any(o.kind == "raise" for o in out)
    loud_day = kinds(run(engine, [noise(local(10, m), 75) for m in range(0, 10)]))
    assert ("raise", "noise_day_leq", "warning") in loud_day


def test_night_lmax_margin(engine: RuleEngine) -> None:
    assert run(engine, [noise(local(23, 0), 50, lmax=70)]) == []
    assert ("raise", "noise_night_lmax", "major") in kinds(run(engine, [noise(local(23, 1), 50, lmax=70.5)]))


def test_night_permit_lowers_severity(engine: RuleEngine) -> None:
    out = run(engine, [noise(local(23, m), 62) for m in range(3)], night_permit=True)
    raised = [o for o in out if o.alarm_type == "noise_night_leq"]
    assert raised[0].severity is Severity.WARNING and "permit" in raised[0].note


# --- crane ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (89.9, None),
        (90.0, "warning"),
        (99.9, "warning"),
        (100.0, "major"),
        (109.9, "major"),
        (110.0, "critical"),
    ],
)
def test_crane_moment_bands(engine: RuleEngine, moment: float, expected: str | None) -> None:
    out = [o for o in engine.evaluate(crane(local(10), moment_pct=moment)) if o.alarm_type == "crane_moment"]
    assert (out[0].severity.value if out else None) == expected


def test_crane_load_from_rated_load_and_wind_bands(engine: RuleEngine) -> None:
    out = kinds(engine.evaluate(crane(local(10), load_t=6.0, rated_load_t=6.0, wind_mps=10.8)))
    assert ("raise", "crane_load", "major") in out
    assert ("raise", "crane_wind", "major") in out
    calm = RuleEngine(engine.config)
    assert calm.evaluate(crane(local(10), wind_mps=7.9)) == []
    assert ("raise", "crane_wind", "warning") in kinds(calm.evaluate(crane(local(10, 1), wind_mps=8.0)))


# --- offline and restarts -------------------------------------------------------------------------


def test_offline_after_three_intervals_and_back_online(engine: RuleEngine) -> None:
    t0 = local(10)
    engine.evaluate(dust(t0, 50))
    grace = engine.offline.policy.start_grace_s
    start = t0.timestamp() - grace  # the checker started a grace period before the reading
    devices = {"D1": MonitoredDevice(SITE, 60, None)}
    assert engine.check_offline(devices, now=start) == []
    engine.check_offline(devices, now=t0.timestamp())  # the first check after the grace: a sweep
    assert engine.check_offline(devices, now=t0.timestamp() + 179) == []
    raised = engine.check_offline(devices, now=t0.timestamp() + 180)
    assert [(d.source, d.outcome.kind, d.outcome.alarm_type) for d in raised] == [
        (f"site:{SITE}", "raise", "device_offline")
    ]
    assert engine.check_offline(devices, now=t0.timestamp() + 240) == []  # once, not every check
    engine.evaluate(dust(t0 + dt.timedelta(minutes=5), 50))
    back = engine.check_offline(devices, now=t0.timestamp() + 301)
    assert [(d.outcome.kind, d.outcome.alarm_type) for d in back] == [("clear", "device_offline")]


def test_state_survives_a_restart(engine: RuleEngine) -> None:
    spec_override = {"sites": {SITE: {"dust": {"pm10_1h": {"for_s": 900}, "min_samples_1h": 1}}}}
    config = RuleConfig({**engine.config.raw, **spec_override})
    first = RuleEngine(config)
    start = local(10)
    run(first, [dust(start + dt.timedelta(minutes=m), 220) for m in range(10)])
    saved = first.export_dirty()
    assert set(saved) == {"D1"} and first.export_dirty() == {}
    second = RuleEngine(config)
    second.load("D1", saved["D1"])
    out = kinds(run(second, [dust(start + dt.timedelta(minutes=10 + m), 220) for m in range(6)]))
    # 15 minutes above 200 in total: the restarted engine raises on time, not 15 minutes later.
    assert ("raise", "dust_pm10_1h", "major") in out
