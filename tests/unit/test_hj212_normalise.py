"""Decoding to canonical readings: MQTT JSON per device type and HJ 212 packets, with unit checks,
data flags, timestamps and the topic-independent rejections."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from domain.alerts.readings import DeviceInfo
from iot_bridge.hj212 import build_frame, decode_frame
from iot_bridge.normalise import DecodeError, decode_hj212, decode_json
from iot_bridge.storage import MinuteAggregator

NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
DUST = DeviceInfo("WLDUST003101", "WL-2026-0031-S1", "dust", 60)
CRANE = DeviceInfo("WLCRANE003101", "WL-2026-0031-S1", "crane", 30)
GENERIC = DeviceInfo("WLGEN003101", "WL-2026-0031-S1", "generic", 60)


def payload(**body: object) -> bytes:
    return json.dumps(body).encode()


def test_dust_json_with_flags_units_and_unknown_keys() -> None:
    reading = decode_json(
        payload(
            ts="2026-11-24T10:00:00",
            pm10=0.12,
            pm25=40,
            flags={"pm25": "c"},
            units={"pm10": "mg/m3"},
            battery=88,
            pm100="x",
        ),
        device=DUST,
        received_at=NOW,
    )
    assert reading.at == NOW  # naive ISO is Asia/Shanghai
    assert reading.values == {"pm10": 120.0, "pm25": 40.0}
    assert reading.valid("pm10") == 120.0 and reading.valid("pm25") is None  # flag C is not normal


def test_out_of_range_values_are_flagged_not_dropped() -> None:
    reading = decode_json(payload(pm10=99_999, pm25=30), device=DUST, received_at=NOW)
    assert reading.flags["pm10"] == "R" and reading.valid("pm10") is None and reading.valid("pm25") == 30


def test_crane_load_pct_is_derived() -> None:
    reading = decode_json(
        payload(ts=NOW.timestamp(), load_t=4.5, rated_load_t=6, moment_pct=70), device=CRANE, received_at=NOW
    )
    assert reading.values["load_pct"] == 75.0 and reading.flags["load_pct"] == "N"


def test_generic_devices_use_a_values_object() -> None:
    reading = decode_json(payload(values={"vibration": 1.5, "label": "x"}), device=GENERIC, received_at=NOW)
    assert reading.values == {"vibration": 1.5}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "bad_json"),
        (b"[1, 2]", "bad_json"),
        (payload(pm10="high"), "no_values"),
        (payload(pm10=1, ts=(NOW + dt.timedelta(hours=3)).timestamp()), "bad_timestamp"),
        (payload(pm10=1, ts="yesterday"), "bad_timestamp"),
        (payload(pm10=1, ts=True), "bad_timestamp"),
        (b"{" + b" " * 9000 + b"}", "too_large"),
    ],
)
def test_rejections(body: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as error:
        decode_json(body, device=DUST, received_at=NOW)
    assert error.value.reason == reason


def test_hj212_realtime_and_minute_packets() -> None:
    realtime = decode_frame(
        build_frame(
            qn="20261124100000000",
            cn="2011",
            mn=DUST.code,
            cp=[
                {"DataTime": "20261124100000"},
                {"a34002-Rtd": "88.0", "a34002-Flag": "N"},
                {"a34004-Rtd": "41", "a34004-Flag": "F"},
                {"a01007-Rtd": "2.5"},
                {"x12345-Rtd": "1"},
            ],
        )
    )
    reading = decode_hj212(realtime, device=DUST, received_at=NOW)
    assert reading is not None and reading.at == NOW
    assert reading.values == {"pm10": 88.0, "pm25": 41.0, "wind_mps": 2.5}
    assert reading.valid("pm25") is None
    minute = decode_frame(
        build_frame(qn="1", cn="2051", mn=DUST.code, cp={"a34002-Avg": "77", "a34002-Max": "90"})
    )
    assert decode_hj212(minute, device=DUST, received_at=NOW).values == {"pm10": 77.0}  # type: ignore[union-attr]
    heartbeat = decode_frame(build_frame(qn="1", cn="9013", mn=DUST.code, cp={}))
    assert decode_hj212(heartbeat, device=DUST, received_at=NOW) is None


def test_minute_aggregator_keeps_flags_apart() -> None:
    aggregator = MinuteAggregator()
    for value, flag in ((100.0, "N"), (300.0, "C"), (50.0, "N")):
        aggregator.add(
            decode_json(
                payload(ts=NOW.timestamp(), pm10=value, flags={"pm10": flag}), device=DUST, received_at=NOW
            )
        )
    assert aggregator.take(before_minute=int(NOW.timestamp() // 60)) == []
    (row,) = [r for r in aggregator.take() if r.metric == "pm10"]
    assert (row.count, row.total, row.minimum, row.maximum, row.valid_count, row.valid_total) == (
        3,
        450,
        50,
        300,
        2,
        150,
    )
    assert len(aggregator) == 0
