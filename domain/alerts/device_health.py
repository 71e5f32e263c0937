"""Device health for staff: every registered device with its life-cycle status (not commissioned,
online, offline), when it first and last reported, and counts by status."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from domain import policies
from domain.alerts.models import DeviceHealth
from domain.alerts.offline import OfflinePolicy
from domain.alerts.rules import DeviceStatus, device_status
from domain.errors import ValidationFailed
from domain.projects.models import Device


def parse_status(value: str) -> DeviceStatus:
    try:
        return DeviceStatus(value.strip().lower())
    except ValueError:
        raise ValidationFailed(f"unknown device status {value!r}", code="invalid_parameter") from None


async def device_health(
    *,
    now: dt.datetime,
    site_code: str = "",
    status: DeviceStatus | None = None,
    factor: float | None = None,
) -> dict[str, Any]:
    """``factor`` defaults to the deployed ``offline.factor`` (config/alert_rules.yml), the one the
    offline checker alarms on, so the API, the console and the alarms agree on who is offline."""
    if factor is None:
        factor = OfflinePolicy.from_config(policies.current().alert_rules.raw.get("offline") or {}).factor
    devices = Device.filter(enabled=True, site__active=True)
    if site_code:
        devices = devices.filter(site__code=site_code)
    rows = await devices.order_by("site__code", "code").values(
        "code", "device_type", "interval_s", "site__code"
    )
    health = {
        h["device_code"]: h
        for h in await DeviceHealth.filter(device_code__in=[r["code"] for r in rows]).values(
            "device_code", "first_seen_at", "last_seen_at"
        )
    }
    items: list[dict[str, Any]] = []
    for row in rows:
        seen = health.get(row["code"])
        last = seen["last_seen_at"] if seen else None
        state = device_status(
            last_report=None if last is None else last.timestamp(),
            interval_s=float(row["interval_s"]),
            factor=factor,
            now=now.timestamp(),
        )
        items.append(
            {
                "device_code": row["code"],
                "device_type": str(row["device_type"]),
                "site_code": row["site__code"],
                "interval_s": row["interval_s"],
                "status": state.value,
                "first_seen_at": seen["first_seen_at"].isoformat() if seen else None,
                "last_seen_at": last.isoformat() if last else None,
            }
        )
    counts = Counter(item["status"] for item in items)
    if status is not None:
        items = [item for item in items if item["status"] == status.value]
    return {
        "items": items,
        "counts": {s.value: counts.get(s.value, 0) for s in DeviceStatus},
        "as_of": now.isoformat(),
    }
