"""A threshold tracker with severity bands, hysteresis (deadband), a hold time before clearing and an
optional duration before raising. Pure; its state is a small dict so it survives restarts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from domain.alerts.rules import SEVERITY_RANK, Severity

NOT_APPLICABLE = float("-inf")  # fed when a rule does not apply now (a night rule by day): reads as normal


@dataclass(frozen=True, slots=True)
class ThresholdSpec:
    alarm_type: str
    bands: tuple[tuple[Severity, float], ...]  # ascending by threshold
    inclusive: bool = False
    deadband: float = 0.0
    hold_s: float = 300.0
    for_s: float = 0.0
    update_every_s: float = 60.0

    @classmethod
    def from_config(
        cls, alarm_type: str, raw: Mapping[str, Any], defaults: Mapping[str, Any]
    ) -> ThresholdSpec:
        merged = {**defaults, **raw}
        bands = tuple(
            sorted(((Severity(k), float(v)) for k, v in merged["bands"].items()), key=lambda b: b[1])
        )
        return cls(
            alarm_type=alarm_type,
            bands=bands,
            inclusive=bool(merged.get("inclusive", False)),
            deadband=float(merged.get("deadband", 0)),
            hold_s=float(merged.get("hold_s", 300)),
            for_s=float(merged.get("for_s", 0)),
            update_every_s=float(merged.get("update_every_s", 60)),
        )

    def band_of(self, value: float) -> tuple[Severity, float] | None:
        hit = None
        for severity, threshold in self.bands:
            if value >= threshold if self.inclusive else value > threshold:
                hit = (severity, threshold)
        return hit

    @property
    def clear_below(self) -> float:
        return self.bands[0][1] - self.deadband


@dataclass
class TrackerState:
    active: bool = False
    severity: str = ""
    above_since: float | None = None
    normal_since: float | None = None
    last_emit: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.active,
            "s": self.severity,
            "ab": self.above_since,
            "n": self.normal_since,
            "e": self.last_emit,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> TrackerState:
        return cls(bool(raw.get("a")), str(raw.get("s") or ""), raw.get("ab"), raw.get("n"), raw.get("e"))


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: Literal["raise", "clear"]
    alarm_type: str
    severity: Severity = Severity.INFO
    value: float | None = None
    limit: float | None = None
    note: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)


def step(
    spec: ThresholdSpec,
    state: TrackerState,
    value: float,
    now: float,
    *,
    severity_cap: Severity | None = None,
) -> Outcome | None:
    """Advance one reading. ``now`` is the reading's time in epoch seconds. ``severity_cap`` lowers
    the raised severity (a night-work permit, for example)."""
    band = spec.band_of(value)
    if band is not None:
        return _above(spec, state, value, now, band=band, cap=severity_cap)
    state.above_since = None
    if not state.active:
        return None
    if value >= spec.clear_below:
        state.normal_since = None  # inside the deadband: neither raise nor start the hold clock
        return None
    if state.normal_since is None:
        state.normal_since = now
    if now - state.normal_since < spec.hold_s:
        return None
    state.active, state.severity, state.normal_since, state.last_emit = False, "", None, None
    return Outcome("clear", spec.alarm_type, value=None if value == NOT_APPLICABLE else value)


def _above(
    spec: ThresholdSpec,
    state: TrackerState,
    value: float,
    now: float,
    *,
    band: tuple[Severity, float],
    cap: Severity | None,
) -> Outcome | None:
    severity, limit = band
    if cap is not None and SEVERITY_RANK[severity] > SEVERITY_RANK[cap]:
        severity = cap
    state.normal_since = None
    if not state.active:
        if state.above_since is None:
            state.above_since = now
        if now - state.above_since < spec.for_s:
            return None
        state.active, state.severity, state.last_emit = True, severity.value, now
        return Outcome("raise", spec.alarm_type, severity, value, limit)
    rose = SEVERITY_RANK[severity] > SEVERITY_RANK[Severity(state.severity)]
    if rose or state.last_emit is None or now - state.last_emit >= spec.update_every_s:
        if rose:
            state.severity = severity.value
        state.last_emit = now
        return Outcome("raise", spec.alarm_type, Severity(state.severity), value, limit)
    return None
