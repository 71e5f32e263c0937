"""Seal each complete hour of stored raw HJ 212 frames, per device, for the evidence log.

A monitor's data is what gets "corrected" before an inspection, so every hour of every device's raw
frames (as received, on TCP or MQTT) is bound by one hash: a ``ReadingsSealed`` event per device and
hour, written to the event outbox. Payload: ``{"batch", "mn", "hour", "count", "first_id", "last_id",
"sha256", "at"}``. The event id ``readings-<MN>-<YYYYMMDDHH>`` makes a repeated pass (two sealers, a
restart, an outbox purge) add nothing. The evidence audit recomputes the digest from the table with
``hour_digest``, so an edited, added or deleted frame is found.

Only stored frames are sealed: quarantined ones (unknown MN, bad password) are not data of a device.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from dataclasses import dataclass

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from domain.events import DomainEvent
from domain.iot.models import RawFrame
from domain.iot.rules import (
    READINGS_SEALED,
    FrameStatus,
    batch_digest,
    batch_ref,
    frame_line,
    hour_of,
    sealable_hours,
)
from domain.outbox import services as outbox
from domain.outbox.models import OutboxEvent

log = logging.getLogger(__name__)
HOUR = dt.timedelta(hours=1)
PAGE = 2000


@dataclass(frozen=True, slots=True)
class HourDigest:
    count: int
    first_id: int
    last_id: int
    sha256: str


def _stored(hour: dt.datetime) -> QuerySet[RawFrame]:
    return RawFrame.filter(status=FrameStatus.STORED, received_at__gte=hour, received_at__lt=hour + HOUR)


async def hour_digest(mn: str, hour: dt.datetime) -> HourDigest:
    """The digest of one device's stored frames in one UTC hour, read page by page in id order."""
    hour = hour_of(hour)
    lines: list[bytes] = []
    ids: list[int] = []
    after = 0
    while True:
        page = (
            await _stored(hour)
            .filter(mn=mn, id__gt=after)
            .order_by("id")
            .limit(PAGE)
            .values_list("id", "received_at", "frame")
        )
        for frame_id, received_at, frame in page:
            lines.append(frame_line(int(frame_id), received_at, str(frame)))
            ids.append(int(frame_id))
        if len(page) < PAGE:
            break
        after = ids[-1]
    return HourDigest(len(ids), ids[0] if ids else 0, ids[-1] if ids else 0, batch_digest(lines))


def sealed_event(mn: str, hour: dt.datetime, digest: HourDigest, *, now: dt.datetime) -> DomainEvent:
    payload = {
        "batch": batch_ref(mn, hour),
        "mn": mn,
        "hour": hour.isoformat(),
        "count": digest.count,
        "first_id": digest.first_id,
        "last_id": digest.last_id,
        "sha256": digest.sha256,
        "at": now.isoformat(),
    }
    return DomainEvent(READINGS_SEALED, payload, event_id=f"readings-{mn}-{hour:%Y%m%d%H}")


async def seal_hour(hour: dt.datetime, *, now: dt.datetime) -> int:
    """One event per device that sent stored frames in the hour; returns how many were new."""
    hour = hour_of(hour)
    devices = sorted(set(await _stored(hour).distinct().values_list("mn", flat=True)))
    sealed = 0
    for mn in devices:
        digest = await hour_digest(str(mn), hour)
        async with in_transaction():
            event = sealed_event(str(mn), hour, digest, now=now)
            sealed += await outbox.append(event, aggregate=f"readings:{mn}", now=now)
    return sealed


async def last_sealed_hour() -> dt.datetime | None:
    """Where the previous sealer stopped, from the outbox (None once purged: the lookback applies)."""
    row = await OutboxEvent.filter(name=READINGS_SEALED).order_by("-id").first()
    if row is None:
        return None
    return dt.datetime.fromisoformat(json.loads(row.payload)["hour"])


async def seal_due(
    *, after: dt.datetime | None, now: dt.datetime, lookback: dt.timedelta
) -> dt.datetime | None:
    """Seal every complete hour since ``after``; returns the last hour sealed (or ``after``)."""
    for hour in sealable_hours(after, now, lookback=lookback):
        sealed = await seal_hour(hour, now=now)
        if sealed:
            log.info("sealed %d device-hours of raw frames for %s", sealed, hour.isoformat())
        after = hour
    return after


async def run_sealer(*, interval_s: float = 300.0, lookback: dt.timedelta = dt.timedelta(hours=48)) -> None:
    """The periodic pass: returns only when cancelled. Two sealers at once write each event once."""
    after: dt.datetime | None = None
    loaded = False
    while True:
        try:
            if not loaded:
                after, loaded = await last_sealed_hour(), True
            after = await seal_due(after=after, now=dt.datetime.now(dt.UTC), lookback=lookback)
        except Exception:
            # A database hiccup: the next pass seals from where this one stopped.
            log.exception("sealing raw frames failed")
        await asyncio.sleep(interval_s)
