"""Pure rules of the IoT intake: frame statuses and the daily partitions of the raw frame table."""

from __future__ import annotations

import datetime as dt
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
