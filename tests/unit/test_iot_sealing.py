"""Pure rules of sealing raw frames per device and hour (domain/iot/rules.py)."""

from __future__ import annotations

import datetime as dt

from domain.iot.rules import SEAL_GRACE, batch_digest, batch_ref, frame_line, hour_of, sealable_hours

T = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)


def test_an_hour_is_sealed_only_once_complete_and_past_the_grace() -> None:
    assert sealable_hours(None, T + SEAL_GRACE - dt.timedelta(seconds=1), lookback=dt.timedelta(hours=3)) == [
        T - dt.timedelta(hours=3),
        T - dt.timedelta(hours=2),
    ]
    assert sealable_hours(None, T + SEAL_GRACE, lookback=dt.timedelta(hours=3))[-1] == T - dt.timedelta(
        hours=1
    )


def test_sealing_resumes_after_the_last_sealed_hour_and_never_goes_back() -> None:
    now = T + dt.timedelta(hours=2, minutes=30)
    assert sealable_hours(T, now, lookback=dt.timedelta(hours=48)) == [T + dt.timedelta(hours=1)]
    assert sealable_hours(T + dt.timedelta(hours=1), now, lookback=dt.timedelta(hours=48)) == []


def test_the_batch_name_and_hour_are_utc_whatever_zone_comes_in() -> None:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    at = dt.datetime(2026, 11, 24, 18, 59, 59, tzinfo=shanghai)
    assert hour_of(at) == T
    assert hour_of(at.replace(tzinfo=None) - dt.timedelta(hours=8)) == T  # naive means UTC
    assert batch_ref("33108100000001", at) == "33108100000001@2026-11-24T10"


def test_an_edited_added_or_removed_frame_changes_the_digest() -> None:
    frames = [frame_line(n, T + dt.timedelta(minutes=n), f"QN=...;PM10={n}") for n in range(1, 4)]
    digest = batch_digest(frames)
    edited = [*frames[:2], frame_line(3, T + dt.timedelta(minutes=3), "QN=...;PM10=0")]
    assert batch_digest(edited) != digest
    assert batch_digest(frames[:2]) != digest
    assert batch_digest([*frames, frame_line(4, T, "x")]) != digest
    assert batch_digest(list(frames)) == digest
