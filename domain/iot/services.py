"""Raw frames: batch insert (the bridge's flush), the staff quarantine list and counts, retention."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from tortoise.functions import Count

from domain.errors import NotFound, ValidationFailed
from domain.iot import partitions
from domain.iot.models import RawFrame
from domain.iot.rules import DOWNLINK_COMMANDS, DOWNLINK_STREAM, RTD_INTERVAL_RANGE, FrameStatus
from domain.ports import EventBus
from domain.projects.models import Device

MAX_PAGE_SIZE = 200


async def store_frames(records: Iterable[Mapping[str, Any]]) -> int:
    """One bulk insert; records carry received_at (datetime), mn, source, status, reason, qn, frame."""
    models = [RawFrame(**dict(record)) for record in records]
    if models:
        await RawFrame.bulk_create(models, batch_size=1000)
    return len(models)


async def quarantine(
    *, since: dt.datetime, mn: str | None = None, page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    """Quarantined frames since ``since``, newest first, with counts by reason over the same span."""
    page_size = max(1, min(MAX_PAGE_SIZE, page_size))
    query = RawFrame.filter(status=FrameStatus.QUARANTINED, received_at__gte=since)
    if mn:
        query = query.filter(mn=mn)
    counts = await query.annotate(n=Count("id")).group_by("reason").values("reason", "n")
    items = (
        await query.order_by("-received_at", "-id")
        .offset((max(1, page) - 1) * page_size)
        .limit(page_size)
        .values("received_at", "mn", "source", "reason", "qn", "frame")
    )
    for item in items:
        item["received_at"] = item["received_at"].isoformat()
    by_reason = {str(row["reason"]): int(row["n"]) for row in counts}
    return {"counts": by_reason, "total": sum(by_reason.values()), "items": items, "page": page}


async def purge(*, today: dt.date, retention: dt.timedelta) -> int:
    """Whole days dropped on PostgreSQL, then a row delete for the rest (DEFAULT partition, SQLite)."""
    await partitions.maintain_partitions(today=today, retention=retention)
    cutoff = dt.datetime.combine(today - retention, dt.time(), tzinfo=dt.UTC)
    return await RawFrame.filter(received_at__lt=cutoff).delete()


async def request_command(bus: EventBus, *, mn: str, command: str, seconds: int = 0, now: dt.datetime) -> str:
    """Queues a downlink command for the bridge that holds the device's connection."""
    if command not in DOWNLINK_COMMANDS:
        raise ValidationFailed(
            f"command must be one of {', '.join(DOWNLINK_COMMANDS)}", code="invalid_command"
        )
    low, high = RTD_INTERVAL_RANGE
    if command == "upload_interval" and not low <= seconds <= high:
        raise ValidationFailed(f"seconds must be {low}..{high}", code="invalid_interval")
    if not await Device.filter(code=mn).exists():
        raise NotFound(f"device {mn} not found")
    fields = {"mn": mn, "command": command, "seconds": str(seconds), "at": now.isoformat()}
    return await bus.publish(DOWNLINK_STREAM, fields, maxlen=10_000)
