"""Pure rules of the IoT intake: frame statuses, the daily partitions of the raw frame table, and how
an hour of a device's raw frames is sealed for the evidence log."""

from __future__ import annotations

import datetime as dt
import hashlib
from enum import StrEnum

TABLE = "iot_raw_frame"
DAYS_AHEAD = 3


class FrameStatus(StrEnum):
    STORED = "stored"  # its reading was stored, and the device was answered (9014) if it asked
    QUARANTINED = "quarantined"  # not stored, not answered: the device sends it again


def partition_name(day: dt.date) -> str:
    return f"{TABLE}_d{day:%Y%m%d}"


def days_to_create(today: dt.date, *, ahead: int = DAYS_AHEAD) -> list[dt.date]:
    return [today + dt.timedelta(days=n) for n in range(ahead + 1)]


def expired(names: list[str], *, keep_from: dt.date) -> list[str]:
    """Daily partitions (``..._dYYYYMMDD``) whose whole day ends on or before ``keep_from``."""
    out = []
    for name in names:
        suffix = name.removeprefix(f"{TABLE}_d")
        if len(suffix) != 8 or not suffix.isdigit():
            continue
        day = dt.date(int(suffix[:4]), int(suffix[4:6]), int(suffix[6:]))
        if day + dt.timedelta(days=1) <= keep_from:
            out.append(name)
    return out


DOWNLINK_STREAM = "iot.downlink"
DOWNLINK_COMMANDS = ("time_sync", "upload_interval")  # HJ 212 CN 1012 and CN 1062
RTD_INTERVAL_RANGE = (30, 3600)  # seconds, as HJ 212-2017 allows for CN 1062


# --- sealing: one digest per device and hour, for the evidence log -----------------------------------

READINGS_SEALED = "ReadingsSealed"
SEAL_GRACE = dt.timedelta(minutes=5)  # raw frames reach the table with the bridge's next flush


def as_utc(at: dt.datetime) -> dt.datetime:
    """An instant in UTC; a naive value is taken as UTC, as SQLite may return it."""
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def hour_of(at: dt.datetime) -> dt.datetime:
    """The UTC hour an instant falls in."""
    return as_utc(at).replace(minute=0, second=0, microsecond=0)


def batch_ref(mn: str, hour: dt.datetime) -> str:
    """``MN@YYYY-MM-DDTHH``: how a sealed hour is named in the evidence log's lookup."""
    return f"{mn}@{hour_of(hour):%Y-%m-%dT%H}"


def frame_line(frame_id: int, received_at: dt.datetime, frame: str) -> bytes:
    stamp = as_utc(received_at).isoformat(timespec="microseconds")
    return f"{frame_id}\t{stamp}\t{frame}\n".encode()


def batch_digest(lines: list[bytes]) -> str:
    """SHA-256 of the frames' lines in id order: a frame edited, added or removed changes it."""
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line)
    return digest.hexdigest()


def sealable_hours(
    after: dt.datetime | None, now: dt.datetime, *, lookback: dt.timedelta
) -> list[dt.datetime]:
    """Complete hours (older than the grace) not sealed yet, oldest first, at most ``lookback`` back."""
    last = hour_of(now - SEAL_GRACE) - dt.timedelta(hours=1)
    first = hour_of(now - lookback)
    if after is not None:
        first = max(first, hour_of(after) + dt.timedelta(hours=1))
    hours = []
    while first <= last:
        hours.append(first)
        first += dt.timedelta(hours=1)
    return hours
