"""Pure device-offline rule with the device life cycle and one alarm per site.

- A device that has never reported is *not commissioned*: it is listed for staff, never alarmed.
- Offline means it reported, then stayed silent for ``factor`` x its own reporting interval.
- After the checker starts there is a grace period, and silence is counted from the start at the
  earliest, so a restarted bridge (or a fresh demo) does not flag a whole city at once.
- All offline devices of one site make ONE alarm (source ``site:<code>``) that lists them; it is
  updated when the list changes and cleared when it is empty.

No I/O: time is an argument (epoch seconds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.alerts.rules import DeviceStatus, Severity, device_status
from domain.alerts.thresholds import Outcome

OFFLINE_TYPE = "device_offline"
SITE_SOURCE_PREFIX = "site:"
MAX_LISTED = 12  # the alarm message names at most this many devices (the count is always exact)


@dataclass(frozen=True, slots=True)
class MonitoredDevice:
    site_code: str
    interval_s: float
    last_report: float | None  # the latest time it was heard from, as far as anyone knows


@dataclass(frozen=True, slots=True)
class OfflinePolicy:
    factor: float = 3.0
    severity: Severity = Severity.WARNING
    start_grace_s: float = 300.0

    @classmethod
    def from_config(cls, raw: Mapping[str, Any]) -> OfflinePolicy:
        return cls(
            factor=float(raw.get("factor", 3)),
            severity=Severity(raw.get("severity", "warning")),
            start_grace_s=float(raw.get("start_grace_s", 300)),
        )


@dataclass(frozen=True, slots=True)
class SiteOutcome:
    source: str
    site_code: str
    outcome: Outcome


def site_source(site_code: str) -> str:
    return f"{SITE_SOURCE_PREFIX}{site_code}"


@dataclass
class OfflineMonitor:
    policy: OfflinePolicy
    started_at: float | None = None
    offline_by_site: dict[str, tuple[str, ...]] = field(default_factory=dict)
    swept: bool = False

    def check(self, devices: Mapping[str, MonitoredDevice], *, now: float) -> list[SiteOutcome]:
        if self.started_at is None:
            self.started_at = now
        if now - self.started_at < self.policy.start_grace_s:
            return []
        current: dict[str, list[str]] = {}
        for code, device in devices.items():
            if self.status_of(device, now=now) is DeviceStatus.OFFLINE:
                current.setdefault(device.site_code, []).append(code)
        sites = {d.site_code for d in devices.values()} | set(self.offline_by_site)
        out = [o for site in sorted(sites) if (o := self._site(site, current.get(site, []))) is not None]
        self.swept = True
        return out

    def status_of(self, device: MonitoredDevice, *, now: float) -> DeviceStatus:
        last = device.last_report
        if last is not None and self.started_at is not None:
            last = max(last, self.started_at)  # silence before we were watching is not counted
        return device_status(
            last_report=last, interval_s=device.interval_s, factor=self.policy.factor, now=now
        )

    def _site(self, site_code: str, offline: list[str]) -> SiteOutcome | None:
        before = self.offline_by_site.get(site_code, ())
        after = tuple(sorted(offline))
        if after == before and (after or self.swept):
            return None
        source = site_source(site_code)
        if not after:
            # Also on the first check after a start: an alarm left open by the previous run closes.
            self.offline_by_site.pop(site_code, None)
            return SiteOutcome(source, site_code, Outcome("clear", OFFLINE_TYPE))
        self.offline_by_site[site_code] = after
        listed = ", ".join(after[:MAX_LISTED]) + ("…" if len(after) > MAX_LISTED else "")
        outcome = Outcome(
            "raise",
            OFFLINE_TYPE,
            self.policy.severity,
            float(len(after)),
            None,
            note=listed,
            extra={"devices": ",".join(after)},
        )
        return SiteOutcome(source, site_code, outcome)
