"""The rule engine: feeds canonical readings through the pure sensor rules and returns outcomes
(raise/clear per alarm type). It holds per-device state, marks it dirty, and exports/reloads it as
JSON so the caller can persist it (see ``iot_bridge.pipeline``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from domain.alerts.offline import MonitoredDevice, OfflineMonitor, OfflinePolicy, SiteOutcome
from domain.alerts.rules import Severity
from domain.alerts.sensor_rules import DeviceState, RuleConfig, SiteRules, energy, is_night, leq_of
from domain.alerts.telemetry import Reading
from domain.alerts.thresholds import NOT_APPLICABLE, Outcome, ThresholdSpec, step


class EvalContext(NamedTuple):
    engine: RuleEngine
    rules: SiteRules
    state: DeviceState
    reading: Reading
    now: float
    permit: bool
    live: bool  # False: a late or backfilled reading, which only feeds the windows


@dataclass
class RuleEngine:
    config: RuleConfig
    states: dict[str, DeviceState] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)
    county_pm10: dict[str, float] = field(default_factory=dict)  # site_code -> county station PM10
    offline: OfflineMonitor = field(init=False)

    def __post_init__(self) -> None:
        self.offline = OfflineMonitor(OfflinePolicy.from_config(self.config.raw["offline"]))

    def state_of(self, device_code: str) -> DeviceState:
        return self.states.setdefault(device_code, DeviceState())

    def load(self, device_code: str, state_json: str) -> None:
        self.states[device_code] = DeviceState.from_json(state_json)

    def export_dirty(self) -> dict[str, str]:
        return self.export(self.take_dirty())

    def take_dirty(self) -> list[str]:
        """The devices changed since the last take, to be exported a few at a time."""
        taken = [code for code in self.dirty if code in self.states]
        self.dirty.clear()
        return taken

    def export(self, device_codes: list[str]) -> dict[str, str]:
        return {code: self.states[code].to_json() for code in device_codes}

    def evaluate(
        self, reading: Reading, *, night_permit: bool = False, received_at: float | None = None
    ) -> list[Outcome]:
        """Event time with a watermark: a reading behind the device's latest evaluated reading (or,
        with ``received_at``, older than the backfill limit) only feeds the windows. It never steps a
        tracker, so it can neither clear nor re-raise what later data decided, the hold clock never
        runs backwards, and a catch-up burst raises nothing by itself."""
        state = self.state_of(reading.device_code)
        self.dirty.add(reading.device_code)
        rules = self.config.for_site(reading.site_code)
        now = reading.at.timestamp()
        heard = now if received_at is None else received_at
        state.last_heard = heard if state.last_heard is None else max(state.last_heard, heard)
        live = (state.last_seen is None or now >= state.last_seen) and not self._backfill(now, received_at)
        if live:
            state.last_seen = now
        else:
            state.late += 1
        evaluate = _EVALUATORS.get(reading.device_type)
        if evaluate is None:
            return []
        return evaluate(EvalContext(self, rules, state, reading, now, night_permit, live))

    def _backfill(self, event_at: float, received_at: float | None) -> bool:
        limit = (self.config.raw.get("watermark") or {}).get("backfill_after_s")
        return received_at is not None and limit is not None and received_at - event_at > float(limit)

    def check_offline(self, devices: Mapping[str, MonitoredDevice], *, now: float) -> list[SiteOutcome]:
        """One outcome per site whose set of offline devices changed (see ``domain.alerts.offline``).
        What this engine heard is combined with the persisted last report of each device."""
        known = {
            code: replace(device, last_report=self._last_report(code, device.last_report))
            for code, device in devices.items()
        }
        return self.offline.check(known, now=now)

    def _last_report(self, code: str, persisted: float | None) -> float | None:
        state = self.states.get(code)
        heard = None if state is None else state.last_heard or state.last_seen
        known = [t for t in (heard, persisted) if t is not None]
        return max(known) if known else None


def _track(
    state: DeviceState, spec: ThresholdSpec, value: float | None, now: float, **kwargs: Any
) -> list[Outcome]:
    if value is None:
        return []
    outcome = step(spec, state.tracker(spec.alarm_type), value, now, **kwargs)
    return [] if outcome is None else [outcome]


def _dust(ctx: EvalContext) -> list[Outcome]:
    engine, rules, state, reading, now, _permit, _live = ctx
    dust = rules.raw["dust"]
    minute = int(now // 60)
    for metric in ("pm10", "pm25"):
        value = reading.valid(metric)
        if value is not None:
            state.add(metric, value, minute)
    if not ctx.live:
        return []
    out: list[Outcome] = []
    for metric in ("pm10", "pm25"):
        if reading.valid(metric) is None:
            continue
        for window, minutes, samples in (
            ("15m", 15, dust["min_samples_15m"]),
            ("1h", 60, dust["min_samples_1h"]),
        ):
            mean = state.mean(metric, minute=minute, window_min=minutes, min_samples=int(samples))
            out += _track(
                state, rules.dust_specs[f"{metric}_{window}"], None if mean is None else round(mean, 1), now
            )
    out += _daily_exceedance(rules, state, reading, minute)
    county = engine.county_pm10.get(reading.site_code)
    pm10 = reading.valid("pm10")
    if dust["county_delta"].get("enabled") and county is not None and pm10 is not None:
        out += _track(state, rules.county_spec, round(pm10 - county, 1), now)
    return out


def _daily_exceedance(rules: SiteRules, state: DeviceState, reading: Reading, minute: int) -> list[Outcome]:
    """When a local clock hour ends, count it if its PM10 mean exceeded the hourly limit."""
    config = rules.raw["dust"]["daily_exceedance"]
    _start, _end, tz = rules.night_window
    local = reading.at.astimezone(tz)
    out: list[Outcome] = []
    day = local.date().isoformat()
    hour = minute // 60
    if state.day != day:
        if state.tracker("dust_daily_exceedance").active:
            state.tracker("dust_daily_exceedance").active = False
            out.append(Outcome("clear", "dust_daily_exceedance"))
        state.day, state.exceed_hours = day, 0
    if state.last_hour >= 0 and hour > state.last_hour:
        mean = state.hour_mean("pm10", state.last_hour)
        if mean is not None and mean > float(config["hourly_limit"]):
            state.exceed_hours += 1
            tracker = state.tracker("dust_daily_exceedance")
            if state.exceed_hours >= int(config["count"]):
                tracker.active, tracker.severity = True, Severity.WARNING.value
                out.append(
                    Outcome(
                        "raise",
                        "dust_daily_exceedance",
                        Severity.WARNING,
                        float(state.exceed_hours),
                        float(config["count"]),
                        note=f"{state.exceed_hours} hours over {config['hourly_limit']}",
                    )
                )
    state.last_hour = hour
    return out


def _noise(ctx: EvalContext) -> list[Outcome]:
    _engine, rules, state, reading, now, permit, _live = ctx
    noise = rules.raw["noise"]
    minute = int(now // 60)
    leq = reading.valid("leq_db")
    if leq is None:
        leq = reading.valid("la_db")
    if leq is not None:
        state.add("leq_energy", energy(leq), minute)
    if not ctx.live:
        return []
    window_leq = leq_of(state.mean("leq_energy", minute=minute, window_min=int(noise["window_min"])))
    window_leq = None if window_leq is None else round(window_leq, 1)
    start, end, tz = rules.night_window
    night = is_night(reading.at, start=start, end=end, tz=tz)
    specs = rules.noise_specs
    cap = Severity(noise["permitted_night_severity"]) if permit else None
    lmax = reading.valid("lmax_db")
    out: list[Outcome] = []
    if window_leq is not None:
        out += _track(state, specs["day"], NOT_APPLICABLE if night else window_leq, now)
        out += _track(state, specs["night"], window_leq if night else NOT_APPLICABLE, now, severity_cap=cap)
    if lmax is not None or not night:
        out += _track(
            state,
            specs["lmax"],
            lmax if night and lmax is not None else NOT_APPLICABLE,
            now,
            severity_cap=cap,
        )
    if permit:
        out = [
            o
            if o.kind == "clear" or not o.alarm_type.startswith("noise_night")
            else Outcome(o.kind, o.alarm_type, o.severity, o.value, o.limit, note="night-work permit on file")
            for o in out
        ]
    return out


def _crane(ctx: EvalContext) -> list[Outcome]:
    _engine, rules, state, reading, now, _permit, live = ctx
    out: list[Outcome] = []
    if not live:
        return out
    for metric, spec in rules.crane_specs.items():
        value = reading.valid(metric)
        if metric == "tilt_deg" and value is not None:
            value = abs(value)  # a tower leaning either way leans
        out += _track(state, spec, value, now)
    return out


_EVALUATORS = {"dust": _dust, "noise": _noise, "crane": _crane}
