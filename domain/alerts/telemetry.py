"""Canonical sensor readings: the wire value object every decoder produces, with unit checks.

Units are fixed per metric (µg/m³, dB(A), t, %, m, m/s, degrees). A value outside its plausible
range is kept but flagged ``R`` (not normal), so it never enters a compliance average.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

NORMAL_FLAG = "N"
OUT_OF_RANGE_FLAG = "R"

# metric -> (unit, plausible minimum, plausible maximum)
METRICS: dict[str, tuple[str, float, float]] = {
    "pm10": ("ug/m3", 0, 20_000),
    "pm25": ("ug/m3", 0, 20_000),
    "tsp": ("ug/m3", 0, 50_000),
    "wind_mps": ("m/s", 0, 75),
    "wind_dir_deg": ("deg", 0, 360),
    "temp_c": ("C", -50, 70),
    "humidity_pct": ("%", 0, 100),
    "leq_db": ("dB(A)", 20, 140),
    "la_db": ("dB(A)", 20, 140),
    "lmax_db": ("dB(A)", 20, 150),
    "load_t": ("t", 0, 200),
    "rated_load_t": ("t", 0.1, 200),
    "moment_pct": ("%", 0, 300),
    "load_pct": ("%", 0, 300),
    "radius_m": ("m", 0, 120),
    "hook_height_m": ("m", -50, 400),
    "slew_deg": ("deg", -720, 720),
    "tilt_deg": ("deg", -30, 30),
}


@dataclass(frozen=True, slots=True)
class Reading:
    device_code: str
    site_code: str
    device_type: str
    at: dt.datetime
    values: Mapping[str, float]
    flags: Mapping[str, str]

    def valid(self, metric: str) -> float | None:
        """The value if it may enter compliance averages (flag N), else None."""
        value = self.values.get(metric)
        if value is None or self.flags.get(metric, NORMAL_FLAG) != NORMAL_FLAG:
            return None
        return value


def check_value(metric: str, value: float, flag: str) -> tuple[float, str]:
    """Flag implausible or non-finite values ``R``; unknown metrics pass as they are."""
    flag = (flag or NORMAL_FLAG).strip().upper()[:1] or NORMAL_FLAG
    if not math.isfinite(value):
        return 0.0, OUT_OF_RANGE_FLAG
    spec = METRICS.get(metric)
    if spec is not None and not spec[1] <= value <= spec[2]:
        return value, OUT_OF_RANGE_FLAG
    return value, flag


def make_reading(
    *,
    device_code: str,
    site_code: str,
    device_type: str,
    at: dt.datetime,
    raw: Mapping[str, tuple[float, str]],
) -> Reading:
    values: dict[str, float] = {}
    flags: dict[str, str] = {}
    for metric, (value, flag) in raw.items():
        values[metric], flags[metric] = check_value(metric, value, flag)
    if "load_pct" not in values and values.get("rated_load_t") and "load_t" in values:
        values["load_pct"] = round(values["load_t"] / values["rated_load_t"] * 100, 2)
        flags["load_pct"] = NORMAL_FLAG if flags["load_t"] == flags["rated_load_t"] == NORMAL_FLAG else "D"
    return Reading(device_code, site_code, device_type, at, values, flags)
