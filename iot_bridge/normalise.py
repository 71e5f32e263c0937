"""Decoders: MQTT JSON telemetry and HJ 212 packets -> canonical ``Reading`` values.

The JSON schema per device type is documented in ``iot_bridge/README.md``. Unknown keys are ignored,
values must be numbers, and every metric gets a data flag (``N`` unless the device says otherwise).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from domain.alerts.readings import DeviceInfo
from domain.alerts.telemetry import NORMAL_FLAG, Reading, make_reading
from iot_bridge.hj212 import Hj212Packet

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
MAX_PAYLOAD_BYTES = 8192
MAX_CLOCK_SKEW = dt.timedelta(hours=2)

JSON_METRICS: dict[str, frozenset[str]] = {
    "dust": frozenset({"pm10", "pm25", "tsp", "wind_mps", "wind_dir_deg", "temp_c", "humidity_pct"}),
    "noise": frozenset({"leq_db", "la_db", "lmax_db"}),
    "crane": frozenset(
        {
            "load_t",
            "rated_load_t",
            "load_pct",
            "moment_pct",
            "radius_m",
            "hook_height_m",
            "slew_deg",
            "wind_mps",
            "tilt_deg",
        }
    ),
}
# HJ 212 pollutant codes -> canonical metric names.
HJ212_CODES: dict[str, str] = {
    "a34002": "pm10",
    "a34004": "pm25",
    "a34001": "tsp",
    "a01007": "wind_mps",
    "a01008": "wind_dir_deg",
    "a01001": "temp_c",
    "a01002": "humidity_pct",
    "LA": "la_db",
    "Leq": "leq_db",
    "LMx": "lmax_db",
}
UNIT_FACTORS: dict[str, float] = {"ug/m3": 1.0, "µg/m3": 1.0, "μg/m3": 1.0, "mg/m3": 1000.0}
HJ212_DATA_CNS = frozenset({"2011", "2051", "2061", "2031"})


class DecodeError(ValueError):
    """A payload we cannot turn into a reading; ``reason`` is counted by the bridge."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def parse_timestamp(value: Any, *, received_at: dt.datetime) -> dt.datetime:
    """Epoch seconds or ISO 8601 (naive means Asia/Shanghai); absent or absurd means "now"."""
    if value is None:
        return received_at
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            at = dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
        elif isinstance(value, str):
            parsed = dt.datetime.fromisoformat(value)
            at = (parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_TZ)).astimezone(dt.UTC)
        else:
            raise DecodeError("bad_timestamp")
    except (ValueError, OverflowError, OSError) as error:
        raise DecodeError("bad_timestamp", str(error)) from None
    if at - received_at > MAX_CLOCK_SKEW:
        raise DecodeError("bad_timestamp", "from the future")
    return at


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def decode_json(payload: bytes, *, device: DeviceInfo, received_at: dt.datetime) -> Reading:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise DecodeError("too_large")
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise DecodeError("bad_json") from None
    if not isinstance(body, dict):
        raise DecodeError("bad_json", "not an object")
    at = parse_timestamp(body.get("ts"), received_at=received_at)
    flags = _object(body.get("flags"))
    units = _object(body.get("units"))
    allowed = JSON_METRICS.get(device.device_type)
    source: Mapping[str, Any] = body if allowed is not None else (body.get("values") or {})
    if not isinstance(source, Mapping):
        raise DecodeError("bad_json", "values must be an object")
    raw: dict[str, tuple[float, str]] = {}
    for name, value in source.items():
        if allowed is not None and name not in allowed:
            continue
        number = _number(value)
        if number is None:
            continue
        factor = (
            UNIT_FACTORS.get(str(units.get(name, "ug/m3")).lower(), 1.0)
            if name in ("pm10", "pm25", "tsp")
            else 1.0
        )
        raw[str(name)[:24]] = (number * factor, str(flags.get(name, NORMAL_FLAG)))
    if not raw:
        raise DecodeError("no_values")
    return make_reading(
        device_code=device.code, site_code=device.site_code, device_type=device.device_type, at=at, raw=raw
    )


def _hj212_time(text: str | None, *, received_at: dt.datetime) -> dt.datetime:
    if not text:
        return received_at
    try:
        local = dt.datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=LOCAL_TZ)
    except ValueError:
        raise DecodeError("bad_timestamp", text[:20]) from None
    return parse_timestamp(local.isoformat(), received_at=received_at)


def decode_hj212(packet: Hj212Packet, *, device: DeviceInfo, received_at: dt.datetime) -> Reading | None:
    """Data packets (2011 real-time, 2051 minute, 2061 hour, 2031 day) become one reading; anything
    else (heartbeats, replies, parameters) is no reading. Units are assumed µg/m³ per DOMAIN.md."""
    if packet.cn not in HJ212_DATA_CNS:
        return None
    suffix = "Rtd" if packet.cn == "2011" else "Avg"
    raw: dict[str, tuple[float, str]] = {}
    for code, metric in HJ212_CODES.items():
        text = packet.cp.get(f"{code}-{suffix}") or packet.cp.get(f"{code}-Rtd")
        if text is None:
            continue
        try:
            value = float(text)
        except ValueError:
            continue
        raw[metric] = (value, packet.cp.get(f"{code}-Flag", NORMAL_FLAG))
    if not raw:
        raise DecodeError("no_values")
    return make_reading(
        device_code=device.code,
        site_code=device.site_code,
        device_type=device.device_type,
        at=_hj212_time(packet.data_time, received_at=received_at),
        raw=raw,
    )
