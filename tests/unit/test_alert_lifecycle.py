"""Alarms a site manager can trust (issue 16): the device life cycle (never reported means not
commissioned; offline per the device's own interval; a start grace; one alarm per site), rules on
event time with a watermark, the 20-minute noise Leq, crane tilt, camera self-clear and messages in
plain Chinese."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.config_files import load_rule_config
from domain.alerts import messages
from domain.alerts.engine import RuleEngine
from domain.alerts.offline import MonitoredDevice
from domain.alerts.rules import (
    CameraClearPolicy,
    DeviceStatus,
    camera_clear_due,
    closing_time,
    counts_as_repeatable,
    device_status,
)
from domain.alerts.sensor_rules import RuleConfig, energy, leq_of
from domain.alerts.telemetry import Reading, make_reading
from domain.alerts.thresholds import Outcome

CONFIG = Path(__file__).resolve().parents[2] / "config" / "alert_rules.yml"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
SITE = "WL-2026-0031-S1"
OTHER = "WL-2026-0032-S1"


def local(hour: int, minute: int = 0, day: int = 24) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(dt.UTC)


def engine_with(**sites: object) -> RuleEngine:
    raw = dict(load_rule_config(CONFIG).raw)
    raw["sites"] = sites
    return RuleEngine(RuleConfig(raw))


def dust(at: dt.datetime, pm10: float, device: str = "D1") -> Reading:
    return make_reading(
        device_code=device, site_code=SITE, device_type="dust", at=at, raw={"pm10": (pm10, "N")}
    )


def noise(at: dt.datetime, leq: float) -> Reading:
    return make_reading(
        device_code="N1", site_code=SITE, device_type="noise", at=at, raw={"leq_db": (leq, "N")}
    )


def crane(at: dt.datetime, tilt: float) -> Reading:
    return make_reading(
        device_code="C1", site_code=SITE, device_type="crane", at=at, raw={"tilt_deg": (tilt, "N")}
    )


def raised(outcomes: list[Outcome], alarm_type: str) -> list[Outcome]:
    return [o for o in outcomes if o.kind == "raise" and o.alarm_type == alarm_type]


# --- the device life cycle --------------------------------------------------------------------------


def demo_city(sites: int = 46) -> dict[str, MonitoredDevice]:
    """The demo seed: three devices per site, none of which ever reported."""
    return {
        f"WL{kind}{n:04d}01": MonitoredDevice(f"WL-2026-{n:04d}-S1", interval, None)
        for n in range(sites)
        for kind, interval in (("DUST", 60), ("NOISE", 60), ("CRANE", 30))
    }


def test_devices_that_never_reported_are_never_alarmed() -> None:
    engine = RuleEngine(load_rule_config(CONFIG))
    start = local(10).timestamp()
    devices = demo_city()
    outcomes = [o for t in range(0, 4 * 3600, 30) for o in engine.check_offline(devices, now=start + t)]
    assert [o for o in outcomes if o.outcome.kind == "raise"] == []


def test_status_not_commissioned_online_offline() -> None:
    assert device_status(last_report=None, interval_s=60, factor=3, now=1e9) is DeviceStatus.NOT_COMMISSIONED
    assert device_status(last_report=1e9 - 179, interval_s=60, factor=3, now=1e9) is DeviceStatus.ONLINE
    assert device_status(last_report=1e9 - 180, interval_s=60, factor=3, now=1e9) is DeviceStatus.OFFLINE
    # Its own interval: a crane box reporting every 10 s is offline after 30 s, a dust monitor is not.
    assert device_status(last_report=1e9 - 30, interval_s=10, factor=3, now=1e9) is DeviceStatus.OFFLINE
    assert device_status(last_report=1e9 - 30, interval_s=60, factor=3, now=1e9) is DeviceStatus.ONLINE


def test_start_grace_and_silence_counted_from_the_start_at_the_earliest() -> None:
    engine = RuleEngine(load_rule_config(CONFIG))
    start = local(10).timestamp()
    # It reported yesterday (persisted); the bridge was down since. Nothing during the grace period.
    devices = {"D1": MonitoredDevice(SITE, 60, start - 86_400)}
    grace = engine.offline.policy.start_grace_s
    assert all(engine.check_offline(devices, now=start + t) == [] for t in range(0, int(grace), 30))
    after = engine.check_offline(devices, now=start + grace)
    assert [(o.source, o.outcome.kind) for o in after] == [(f"site:{SITE}", "raise")]


def test_several_offline_devices_at_one_site_make_one_alarm_listing_them() -> None:
    engine = RuleEngine(load_rule_config(CONFIG))
    t0 = local(10).timestamp()
    devices = {
        "D1": MonitoredDevice(SITE, 60, t0),
        "N1": MonitoredDevice(SITE, 60, t0),
        "C1": MonitoredDevice(SITE, 30, t0),
        "D2": MonitoredDevice(OTHER, 60, t0),
        "N2": MonitoredDevice(OTHER, 60, t0 + 3600),  # still reporting
    }
    engine.check_offline(devices, now=t0)
    out = engine.check_offline(devices, now=t0 + 3600)
    by_site = {o.site_code: o.outcome for o in out if o.outcome.kind == "raise"}
    assert set(by_site) == {SITE, OTHER}
    assert by_site[SITE].value == 3 and by_site[SITE].extra["devices"] == "C1,D1,N1"
    assert by_site[OTHER].value == 1 and by_site[OTHER].extra["devices"] == "D2"
    assert engine.check_offline(devices, now=t0 + 3630) == []  # unchanged: nothing new


def test_a_device_coming_back_updates_then_clears_the_site_alarm() -> None:
    engine = RuleEngine(load_rule_config(CONFIG))
    t0 = local(10)
    devices = {
        "D1": MonitoredDevice(SITE, 60, t0.timestamp()),
        "D9": MonitoredDevice(SITE, 60, t0.timestamp()),
    }
    engine.check_offline(devices, now=t0.timestamp())
    assert [o.outcome.value for o in engine.check_offline(devices, now=t0.timestamp() + 600)] == [2]
    engine.evaluate(dust(t0 + dt.timedelta(minutes=11), 40, device="D1"))
    update = engine.check_offline(devices, now=t0.timestamp() + 670)
    assert [(o.outcome.kind, o.outcome.value) for o in update] == [("raise", 1)]
    engine.evaluate(dust(t0 + dt.timedelta(minutes=12), 40, device="D9"))
    assert [o.outcome.kind for o in engine.check_offline(devices, now=t0.timestamp() + 730)] == ["clear"]


def test_repeated_violation_ignores_offline_and_repeats() -> None:
    assert counts_as_repeatable("dust_pm10_1h")
    assert not counts_as_repeatable("device_offline")
    assert not counts_as_repeatable("repeated_violation")


# --- event time and the watermark ------------------------------------------------------------------


def test_late_clean_readings_do_not_clear_a_live_alarm_nor_raise_a_new_one() -> None:
    """The exact scenario of issue 16: live PM10 alarm, then 12 clean readings from an hour earlier."""
    engine = engine_with(**{SITE: {"dust": {"min_samples_15m": 1, "min_samples_1h": 1}}})
    now = local(11)
    live = [o for m in range(5) for o in engine.evaluate(dust(now + dt.timedelta(minutes=m), 400))]
    assert raised(live, "dust_pm10_15m")
    backlog = [o for m in range(12) for o in engine.evaluate(dust(now - dt.timedelta(minutes=60 - m), 20))]
    assert backlog == []  # neither a clear nor a raise
    assert engine.state_of("D1").trackers["dust_pm10_15m"].active
    assert engine.state_of("D1").late == 12
    nxt = engine.evaluate(dust(now + dt.timedelta(minutes=6), 400))
    # The alarm is still the same one: an update at most, and its tracker never went inactive.
    assert all(o.kind == "raise" for o in nxt)
    assert engine.state_of("D1").trackers["dust_pm10_15m"].active


def test_late_readings_still_feed_the_windows() -> None:
    engine = engine_with(**{SITE: {"dust": {"min_samples_15m": 1, "min_samples_1h": 1}}})
    now = local(11)
    engine.evaluate(dust(now, 100))
    engine.evaluate(dust(now - dt.timedelta(minutes=5), 300))  # late
    minute = int(now.timestamp() // 60)
    assert engine.state_of("D1").mean("pm10", minute=minute, window_min=15) == 200


def test_a_catch_up_burst_after_an_outage_raises_nothing() -> None:
    engine = engine_with(**{SITE: {"dust": {"min_samples_15m": 1, "min_samples_1h": 1}}})
    outage = local(9)
    arrival = local(11).timestamp()
    burst = [
        o
        for m in range(60)
        for o in engine.evaluate(
            dust(outage + dt.timedelta(minutes=m), 400 if m % 20 < 10 else 20), received_at=arrival + m / 100
        )
    ]
    assert burst == []
    assert engine.state_of("D1").late == 60


@settings(max_examples=60, deadline=None)
@given(st.permutations(list(range(40))), st.lists(st.sampled_from([20.0, 400.0]), min_size=40, max_size=40))
def test_outcomes_never_go_back_in_time(order: list[int], values: list[float]) -> None:
    """Whatever order readings arrive in, the event times of raises and clears never decrease, so
    an alarm can never be closed before it was raised."""
    engine = engine_with(
        **{SITE: {"defaults": {"hold_s": 120}, "dust": {"min_samples_15m": 1, "min_samples_1h": 1}}}
    )
    start = local(10)
    times: list[float] = []
    for index in order:
        reading = dust(start + dt.timedelta(minutes=index), values[index])
        if engine.evaluate(reading):
            times.append(reading.at.timestamp())
    assert times == sorted(times)


def test_closing_time_is_never_before_the_raise() -> None:
    raised_at = local(11)
    assert closing_time(at=local(10), raised_at=raised_at) == raised_at
    assert closing_time(at=local(12), raised_at=raised_at) == local(12)


# --- noise: 20-minute Leq and night Lmax ------------------------------------------------------------


def expected_leq(levels: list[float]) -> float:
    return 10 * math.log10(sum(10 ** (level / 10) for level in levels) / len(levels))


def test_leq_is_the_energy_mean_over_20_minutes() -> None:
    engine = RuleEngine(load_rule_config(CONFIG))
    start = local(23)  # night: limit 55 dB(A)
    levels = [50.0] * 10 + [60.0] * 10
    out: list[Outcome] = []
    for m, level in enumerate(levels):
        out += engine.evaluate(noise(start + dt.timedelta(minutes=m), level))
    night = raised(out, "noise_night_leq")
    assert night and night[-1].value == round(expected_leq(levels), 1) == 57.4
    assert leq_of(sum(energy(x) for x in levels) / len(levels)) == expected_leq(levels)


def test_a_one_minute_burst_by_day_is_not_a_20_minute_exceedance() -> None:
    engine = RuleEngine(load_rule_config(CONFIG))
    start = local(10)
    levels = [60.0] * 19 + [80.0]
    out = [
        o for m, x in enumerate(levels) for o in engine.evaluate(noise(start + dt.timedelta(minutes=m), x))
    ]
    assert round(expected_leq(levels), 1) == 67.7  # under the 70 dB(A) day limit
    assert raised(out, "noise_day_leq") == []


def test_the_window_is_configurable() -> None:
    engine = engine_with(**{SITE: {"noise": {"window_min": 5}}})
    start = local(10)
    levels = [60.0] * 19 + [80.0]
    out = [
        o for m, x in enumerate(levels) for o in engine.evaluate(noise(start + dt.timedelta(minutes=m), x))
    ]
    assert raised(out, "noise_day_leq")


# --- crane tilt -------------------------------------------------------------------------------------


def test_crane_tilt_warning_and_major_either_side() -> None:
    engine = RuleEngine(load_rule_config(CONFIG))
    t0 = local(10)
    assert engine.evaluate(crane(t0, 0.1)) == []
    engine.evaluate(crane(t0 + dt.timedelta(seconds=10), 0.2))
    warn = engine.evaluate(crane(t0 + dt.timedelta(seconds=20), 0.2))
    assert [(o.alarm_type, o.severity.value) for o in raised(warn, "crane_tilt")] == [
        ("crane_tilt", "warning")
    ]
    major = engine.evaluate(crane(t0 + dt.timedelta(seconds=30), -0.3))
    assert [(o.severity.value, o.value) for o in raised(major, "crane_tilt")] == [("major", 0.3)]


def test_a_momentary_sway_does_not_raise_tilt() -> None:
    engine = RuleEngine(load_rule_config(CONFIG))
    t0 = local(10)
    assert engine.evaluate(crane(t0, 0.3)) == []
    assert engine.evaluate(crane(t0 + dt.timedelta(seconds=5), 0.05)) == []
    assert engine.evaluate(crane(t0 + dt.timedelta(seconds=20), 0.05)) == []


def test_tilt_thresholds_are_configurable() -> None:
    engine = engine_with(**{SITE: {"crane": {"tilt_deg": {"bands": {"warning": 1.0, "major": 2.0}}}}})
    t0 = local(10)
    out = engine.evaluate(crane(t0, 0.5)) + engine.evaluate(crane(t0 + dt.timedelta(seconds=30), 0.5))
    assert raised(out, "crane_tilt") == []


# --- camera self-clear ------------------------------------------------------------------------------


def test_camera_clear_after_n_clean_inferences_or_t_minutes() -> None:
    policy = CameraClearPolicy.from_config({"clear_after_clean_inferences": 3, "clear_after_quiet_min": 5})
    seen = local(10)
    assert not camera_clear_due(
        clean_count=2, last_seen_at=seen, now=seen + dt.timedelta(minutes=1), policy=policy
    )
    assert camera_clear_due(
        clean_count=3, last_seen_at=seen, now=seen + dt.timedelta(minutes=1), policy=policy
    )
    assert camera_clear_due(
        clean_count=0, last_seen_at=seen, now=seen + dt.timedelta(minutes=5), policy=policy
    )


# --- messages in plain Chinese ----------------------------------------------------------------------


def test_camera_message_says_people_and_confidence_not_frames_or_limits() -> None:
    text = messages.describe("no_hardhat", value=0.81, limit=0.5, detail="连续 3 帧", people=2)
    assert text == "识别到 2 人未戴安全帽，置信度 81%"
    assert "帧" not in text and "限值" not in text and "当前值" not in text


def test_a_camera_alarms_template_figures_are_a_confidence_in_percent_and_no_limit() -> None:
    """Issue 16: the template data said value 0.8 against limit 0.5 for a camera alarm."""
    assert messages.template_figures("no_hardhat", value=0.81, limit=0.5) == ("81%", "-")
    assert messages.template_figures("dust_pm10_1h", value=182.0, limit=150.0) == ("182.0", "150.0")


def test_sensor_message_has_value_unit_and_limit() -> None:
    assert (
        messages.describe("dust_pm10_1h", value=182.0, limit=150.0) == "PM10 小时均值 182μg/m³，限值 150μg/m³"
    )
    assert messages.describe("crane_tilt", value=0.3, limit=0.23) == "塔身倾角 0.3°，限值 0.23°"
    assert "3 台监测设备" in messages.describe("device_offline", value=3, limit=None, detail="C1, D1, N1")


@given(
    st.sampled_from([*sorted(messages.MEASURES), "no_hardhat", "device_offline", "dust_daily_exceedance"]),
    st.floats(min_value=0, max_value=99_999, allow_nan=False),
    st.floats(min_value=0, max_value=99_999, allow_nan=False),
    st.integers(min_value=1, max_value=99),
)
def test_the_brief_always_fits_a_template_field(
    alarm_type: str, value: float, limit: float, people: int
) -> None:
    assert 0 < len(messages.brief(alarm_type, value=value, limit=limit, people=people)) <= 20


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=86_400), min_size=1, max_size=30),
    st.dictionaries(
        st.sampled_from([f"D{n}" for n in range(8)]),
        st.tuples(st.sampled_from([SITE, OTHER]), st.sampled_from([10, 30, 60]), st.booleans()),
        min_size=1,
    ),
)
def test_offline_checks_alarm_only_commissioned_devices_and_once_per_site(
    checks: list[int], fleet: dict[str, tuple[str, int, bool]]
) -> None:
    engine = RuleEngine(load_rule_config(CONFIG))
    start = local(10).timestamp()
    devices = {
        code: MonitoredDevice(site, interval, start - 3600 if reported else None)
        for code, (site, interval, reported) in fleet.items()
    }
    commissioned = {code for code, (_s, _i, reported) in fleet.items() if reported}
    for offset in sorted(checks):
        out = engine.check_offline(devices, now=start + offset)
        assert len({o.site_code for o in out}) == len(out)  # at most one outcome per site
        for o in out:
            if o.outcome.kind == "raise":
                assert set(o.outcome.extra["devices"].split(",")) <= commissioned
