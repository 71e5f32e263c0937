"""Pure sensor rules: dust windows and daily exceedances, noise day/night limits, crane bands and
device offline. ``RuleEngine`` keeps per-device state (minute buckets and trackers) that it can export
and reload as JSON, so "above X for 15 minutes" survives a restart. No I/O: time comes with the reading.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from domain.alerts.thresholds import ThresholdSpec, TrackerState

BUCKET_KEEP_MIN = 62  # one hour of minute buckets plus the minute in progress


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _clock(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def is_night(at: dt.datetime, *, start: dt.time, end: dt.time, tz: dt.tzinfo) -> bool:
    """Night is [start, end) local time, wrapping midnight (22:00-06:00 by default)."""
    local = at.astimezone(tz).time()
    if start <= end:
        return start <= local < end
    return local >= start or local < end


@dataclass(frozen=True)
class SiteRules:
    """The effective rules for one site (defaults deep-merged with the site's overrides)."""

    raw: Mapping[str, Any]

    def spec(self, section: str, name: str, alarm_type: str) -> ThresholdSpec:
        return ThresholdSpec.from_config(alarm_type, self.raw[section][name], self.raw.get("defaults", {}))

    @cached_property
    def dust_specs(self) -> dict[str, ThresholdSpec]:
        return {
            f"{m}_{w}": self.spec("dust", f"{m}_{w}", f"dust_{m}_{w}")
            for m in ("pm10", "pm25")
            for w in ("15m", "1h")
        }

    @cached_property
    def county_spec(self) -> ThresholdSpec:
        return self.spec("dust", "county_delta", "dust_county_delta")

    @cached_property
    def noise_specs(self) -> dict[str, ThresholdSpec]:
        noise = self.raw["noise"]
        night_limit = min(v for v in noise["night_leq"]["bands"].values())
        lmax = {
            "bands": {"major": night_limit + noise["night_lmax_margin_db"]},
            "deadband": noise["night_leq"]["deadband"],
        }
        return {
            "day": self.spec("noise", "day_leq", "noise_day_leq"),
            "night": self.spec("noise", "night_leq", "noise_night_leq"),
            "lmax": ThresholdSpec.from_config("noise_night_lmax", lmax, self.raw.get("defaults", {})),
        }

    @cached_property
    def crane_specs(self) -> dict[str, ThresholdSpec]:
        return {
            m: self.spec("crane", m, f"crane_{m.split('_')[0]}")
            for m in ("moment_pct", "load_pct", "wind_mps", "tilt_deg")
            if m in self.raw["crane"]
        }

    @cached_property
    def night_window(self) -> tuple[dt.time, dt.time, dt.tzinfo]:
        noise = self.raw["noise"]
        return _clock(noise["night_start"]), _clock(noise["night_end"]), ZoneInfo(noise["timezone"])


@dataclass
class RuleConfig:
    raw: Mapping[str, Any]
    _cache: dict[str, SiteRules] = field(default_factory=dict)

    def for_site(self, site_code: str) -> SiteRules:
        if site_code not in self._cache:
            base = {k: v for k, v in self.raw.items() if k != "sites"}
            override = (self.raw.get("sites") or {}).get(site_code) or {}
            self._cache[site_code] = SiteRules(deep_merge(base, override))
        return self._cache[site_code]


@dataclass
class DeviceState:
    """Per device: minute buckets {metric: {minute: [sum, count]}} of valid values, trackers, the
    watermark (``last_seen``: the event time of the latest evaluated reading), when it was last heard
    from (``last_heard``: arrival time when known), late readings counted, and the local day's
    exceedance hours."""

    buckets: dict[str, dict[int, list[float]]] = field(default_factory=dict)
    trackers: dict[str, TrackerState] = field(default_factory=dict)
    last_seen: float | None = None
    last_heard: float | None = None
    late: int = 0
    day: str = ""
    exceed_hours: int = 0
    last_hour: int = -1

    def tracker(self, alarm_type: str) -> TrackerState:
        return self.trackers.setdefault(alarm_type, TrackerState())

    def add(self, metric: str, value: float, minute: int) -> None:
        buckets = self.buckets.setdefault(metric, {})
        bucket = buckets.setdefault(minute, [0.0, 0])
        bucket[0] += value
        bucket[1] += 1
        if len(buckets) > BUCKET_KEEP_MIN:
            for old in [m for m in buckets if m <= minute - BUCKET_KEEP_MIN]:
                del buckets[old]

    def mean(self, metric: str, *, minute: int, window_min: int, min_samples: int = 1) -> float | None:
        """Arithmetic mean over the last ``window_min`` minutes (the current one included)."""
        total, count = 0.0, 0
        for m, (s, c) in self.buckets.get(metric, {}).items():
            if minute - window_min < m <= minute:
                total, count = total + s, count + int(c)
        return total / count if count >= max(1, min_samples) else None

    def hour_mean(self, metric: str, hour: int) -> float | None:
        return self.mean(metric, minute=hour * 60 + 59, window_min=60)

    def to_json(self) -> str:
        return json.dumps(
            {
                "b": {k: {str(m): v for m, v in b.items()} for k, b in self.buckets.items()},
                "t": {k: t.to_dict() for k, t in self.trackers.items()},
                "l": self.last_seen,
                "r": self.last_heard,
                "late": self.late,
                "d": self.day,
                "x": self.exceed_hours,
                "h": self.last_hour,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> DeviceState:
        raw = json.loads(text)
        return cls(
            buckets={k: {int(m): v for m, v in b.items()} for k, b in raw.get("b", {}).items()},
            trackers={k: TrackerState.from_dict(t) for k, t in raw.get("t", {}).items()},
            last_seen=raw.get("l"),
            last_heard=raw.get("r"),
            late=int(raw.get("late", 0)),
            day=raw.get("d", ""),
            exceed_hours=int(raw.get("x", 0)),
            last_hour=int(raw.get("h", -1)),
        )


def energy(db: float) -> float:
    return 10 ** (db / 10)


def leq_of(mean_energy: float | None) -> float | None:
    return None if mean_energy is None or mean_energy <= 0 else 10 * math.log10(mean_energy)


def parse_rule_config(raw: Mapping[str, Any], *, source: str = "alert_rules.yml") -> RuleConfig:
    """``config/alert_rules.yml`` as read by the bootstrap; every sensor family must be present."""
    for section in ("dust", "noise", "crane", "offline"):
        if section not in raw:
            raise ValueError(f"{source}: section {section!r} is missing")
    return RuleConfig(raw)
