"""Downlink frames a platform sends: CN 1012 (set the device clock) and CN 1062 (upload interval),
with a valid CRC, the device's own MN/PW/ST, and Flag 5 (the device answers 9011/9012)."""

from __future__ import annotations

import datetime as dt

import pytest

from iot_bridge.hj212 import FrameError, decode_frame, time_sync_frame, upload_interval_frame

NOW = dt.datetime(2026, 11, 24, 2, 3, 4, 567000, tzinfo=dt.UTC)  # 10:03:04.567 in Wenling


def test_time_sync_sets_the_local_clock() -> None:
    packet = decode_frame(time_sync_frame(mn="WLDUST003101", pw="s3cret", st="22", now=NOW))
    assert (packet.cn, packet.mn, packet.pw, packet.st, packet.flag) == (
        "1012",
        "WLDUST003101",
        "s3cret",
        "22",
        5,
    )
    assert packet.cp["SystemTime"] == "20261124100304"
    assert packet.qn == "20261124100304567"


def test_upload_interval_is_checked_against_the_standard_range() -> None:
    packet = decode_frame(upload_interval_frame(mn="WLDUST003101", pw="p", st="22", seconds=60, now=NOW))
    assert packet.cn == "1062" and packet.cp["RtdInterval"] == "60"
    for seconds in (29, 3601):
        with pytest.raises(FrameError):
            upload_interval_frame(mn="WLDUST003101", pw="p", st="22", seconds=seconds, now=NOW)
