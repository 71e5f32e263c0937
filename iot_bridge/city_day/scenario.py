"""The scenario of one city day, built from a seed and nothing else (pure, no I/O).

Sites with one dust and one noise monitor and 0-3 tower cranes each (900 sites make ~3,000 devices);
a few monitors installed but never commissioned (they never report, so nothing may alarm on them);
night-work permits at some sites; 2 % of the devices offline for hours, half of them catching up on
return with their backlog out of order; and the injected list: real violations (dust over the limit
long enough, night noise without a permit, crane overload and tilt) and explained conditions
(permitted night work, cranes in wind, devices offline), each with the alarms it must raise.
Times are epoch seconds of device (event) time.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.alerts.readings import DeviceInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
NIGHT_START_H, NIGHT_END_H = 22, 6  # DOMAIN.md: night is 22:00-06:00 (the shipped rules agree)
TOWNS = (
    "太平街道",
    "城东街道",
    "城西街道",
    "城北街道",
    "横峰街道",
    "泽国镇",
    "大溪镇",
    "松门镇",
    "箬横镇",
    "新河镇",
)
CRANES_PER_SITE = (0, 1, 1, 1, 2, 2, 3)  # ~1.4 a site: 900 sites make ~3,000 devices
UNCOMMISSIONED_EVERY = 25  # every 25th site has a noise monitor installed that never reports
PERMIT_SHARE = 0.10
OFFLINE_SHARE = 0.02
MINUTE = 60.0


class Kind(StrEnum):
    DUST_EPISODE = "dust_episode"
    NIGHT_NOISE = "night_noise"  # loud night work without a permit
    PERMITTED_NIGHT_WORK = "permitted_night_work"  # the same with a permit: a capped warning
    CRANE_OVERLOAD = "crane_overload"
    CRANE_TILT = "crane_tilt"
    CRANE_WIND = "crane_wind"
    OFFLINE = "device_offline"


VIOLATIONS = frozenset({Kind.DUST_EPISODE, Kind.NIGHT_NOISE, Kind.CRANE_OVERLOAD, Kind.CRANE_TILT})


@dataclass(frozen=True, slots=True)
class Expected:
    """One alarm an injected event must raise, exactly once: (source, alarm_type) at this severity."""

    source: str
    alarm_type: str
    severity: str


@dataclass(frozen=True, slots=True)
class Injected:
    kind: Kind
    site_code: str
    device_code: str
    start: float
    end: float
    expects: tuple[Expected, ...]
    backlog: bool = False  # offline only: the span's readings arrive late and out of order on return

    @property
    def violation(self) -> bool:
        return self.kind in VIOLATIONS


@dataclass(frozen=True, slots=True)
class SimSite:
    code: str
    project_code: str
    town: str
    manager_openid: str
    night_permit: bool


@dataclass(frozen=True)
class Scenario:
    seed: int
    start: float
    end: float
    sites: tuple[SimSite, ...]
    devices: tuple[DeviceInfo, ...]  # every registered device, the uncommissioned ones included
    uncommissioned: frozenset[str]
    phases: Mapping[str, float]  # device -> offset of its first reading after ``start``
    injected: tuple[Injected, ...]
    by_device: Mapping[str, tuple[Injected, ...]] = field(default_factory=dict)

    @property
    def days(self) -> float:
        return (self.end - self.start) / 86_400

    def managers(self) -> frozenset[str]:
        return frozenset(site.manager_openid for site in self.sites)

    def expected(self) -> dict[tuple[str, str], Injected]:
        return {(e.source, e.alarm_type): event for event in self.injected for e in event.expects}


def local_hour(at: float) -> float:
    local = dt.datetime.fromtimestamp(at, LOCAL_TZ)
    return local.hour + local.minute / 60 + local.second / 3600


def is_night(at: float) -> bool:
    hour = local_hour(at)
    return hour >= NIGHT_START_H or hour < NIGHT_END_H


def build_scenario(
    *,
    seed: int,
    sites: int,
    day: dt.date,
    start: dt.time = dt.time(0, 0),
    hours: float = 24.0,
    interval_s: int = 60,
    crane_interval_s: int = 30,
) -> Scenario:
    """``day`` and ``start`` are Asia/Shanghai; dust and noise monitors report every ``interval_s``,
    cranes every ``crane_interval_s``."""
    rng = random.Random(seed)
    begin = dt.datetime.combine(day, start, LOCAL_TZ).timestamp()
    end = begin + hours * 3600
    site_list, devices, uncommissioned = _registry(rng, sites, interval_s, crane_interval_s)
    phases = {d.code: round(rng.uniform(0, d.interval_s), 3) for d in devices}
    planner = _Planner(rng, begin, end, site_list, [d for d in devices if d.code not in uncommissioned])
    injected = planner.plan()
    by_device: dict[str, list[Injected]] = {}
    for event in injected:
        by_device.setdefault(event.device_code, []).append(event)
    return Scenario(
        seed=seed,
        start=begin,
        end=end,
        sites=tuple(site_list),
        devices=tuple(devices),
        uncommissioned=frozenset(uncommissioned),
        phases=phases,
        injected=tuple(injected),
        by_device={code: tuple(events) for code, events in by_device.items()},
    )


def _registry(
    rng: random.Random, count: int, interval_s: int, crane_interval_s: int
) -> tuple[list[SimSite], list[DeviceInfo], set[str]]:
    site_list: list[SimSite] = []
    devices: list[DeviceInfo] = []
    uncommissioned: set[str] = set()
    for index in range(count):
        number = f"{index + 1:04d}"
        code = f"WL-2026-{number}-S1"
        # Two managers for every three sites: some look after two sites.
        manager = f"oSimManager{index * 2 // 3:06d}"
        site_list.append(
            SimSite(
                code, f"WL-2026-{number}", TOWNS[index % len(TOWNS)], manager, rng.random() < PERMIT_SHARE
            )
        )
        devices.append(DeviceInfo(f"WLDUST{number}01", code, "dust", interval_s))
        devices.append(DeviceInfo(f"WLNOISE{number}01", code, "noise", interval_s))
        for crane in range(rng.choice(CRANES_PER_SITE)):
            devices.append(DeviceInfo(f"WLCRANE{number}{crane + 1:02d}", code, "crane", crane_interval_s))
        if index % UNCOMMISSIONED_EVERY == UNCOMMISSIONED_EVERY - 1:
            silent = DeviceInfo(f"WLNOISE{number}09", code, "noise", interval_s)
            devices.append(silent)
            uncommissioned.add(silent.code)
    return site_list, devices, uncommissioned


class _Planner:
    """Places the injected events: each device carries at most one, so every expected alarm has
    exactly one cause, and each event fits in the scenario's time (or is left out)."""

    def __init__(
        self, rng: random.Random, begin: float, end: float, sites: list[SimSite], devices: list[DeviceInfo]
    ) -> None:
        self.rng, self.begin, self.end = rng, begin, end
        self.sites = {site.code: site for site in sites}
        self.devices = devices
        self.busy: set[str] = set()
        self.out: list[Injected] = []

    def of_type(self, device_type: str) -> list[DeviceInfo]:
        return [d for d in self.devices if d.device_type == device_type and d.code not in self.busy]

    def window(
        self, duration: float, *, lead: float, tail: float, night: bool | None = None
    ) -> tuple[float, float] | None:
        """A random [start, end) inside the scenario; ``night`` True: wholly at night; False: in
        working hours when that fits, anywhere otherwise."""
        earliest, latest = self.begin + lead, self.end - duration - tail
        if latest < earliest:
            return None
        for _attempt in range(200):
            at = self.rng.uniform(earliest, latest)
            checks = [at + step * (duration / 8) for step in range(9)]
            if night is True and not all(is_night(t) for t in checks):
                continue
            if night is False and _attempt < 100 and not all(7 <= local_hour(t) < 19 for t in checks):
                continue
            return at, at + duration
        return None

    def add(self, kind: Kind, device: DeviceInfo, span: tuple[float, float], expects: list[Expected]) -> None:
        self.busy.add(device.code)
        self.out.append(Injected(kind, device.site_code, device.code, span[0], span[1], tuple(expects)))

    def plan(self) -> list[Injected]:
        sites = len(self.sites)
        self._dust(max(1, round(0.03 * sites)))
        self._night_noise(max(1, round(0.02 * sites)))
        cranes = len(self.of_type("crane"))
        self._crane(Kind.CRANE_OVERLOAD, "crane_moment", max(1, round(0.02 * cranes)))
        self._crane(Kind.CRANE_TILT, "crane_tilt", max(1, round(0.01 * cranes)))
        self._wind()
        self._offline(max(1, round(OFFLINE_SHARE * len(self.devices))))
        return sorted(self.out, key=lambda e: (e.start, e.device_code))

    def _dust(self, count: int) -> None:
        for device in self.rng.sample(self.of_type("dust"), min(count, len(self.of_type("dust")))):
            # The 1-hour mean needs 10 samples before the episode; 40 minutes at ~420 µg/m³ make
            # every PM10/PM2.5 window major whatever the baseline.
            lead = max(11 * MINUTE, 11 * device.interval_s)
            span = self.window(40 * MINUTE, lead=lead, tail=5 * MINUTE, night=False)
            if span is None:
                return
            expects = [
                Expected(device.code, f"dust_{metric}_{window}", "major")
                for metric in ("pm10", "pm25")
                for window in ("15m", "1h")
            ]
            self.add(Kind.DUST_EPISODE, device, span, expects)

    def _night_noise(self, count: int) -> None:
        noise = self.of_type("noise")
        unpermitted = [d for d in noise if not self.sites[d.site_code].night_permit]
        permitted = [d for d in noise if self.sites[d.site_code].night_permit]
        plans = [
            (Kind.NIGHT_NOISE, "major", d) for d in self.rng.sample(unpermitted, min(count, len(unpermitted)))
        ]
        # Half the sites with a permit work loud at night: capped at warning, never a major.
        plans += [(Kind.PERMITTED_NIGHT_WORK, "warning", d) for d in permitted[: max(1, len(permitted) // 2)]]
        for kind, severity, device in plans:
            span = self.window(30 * MINUTE, lead=5 * MINUTE, tail=MINUTE, night=True)
            if span is None:
                return
            self.add(kind, device, span, [Expected(device.code, "noise_night_leq", severity)])

    def _crane(self, kind: Kind, alarm_type: str, count: int) -> None:
        cranes = self.of_type("crane")
        for device in self.rng.sample(cranes, min(count, len(cranes))):
            duration = max(8 * MINUTE, 3 * device.interval_s)
            span = self.window(duration, lead=5 * MINUTE, tail=2 * MINUTE, night=False)
            if span is None:
                return
            self.add(kind, device, span, [Expected(device.code, alarm_type, "major")])

    def _wind(self) -> None:
        """A squall over some sites of one town: every crane there reads 8.5-10.2 m/s (a warning)."""
        town = self.rng.choice(TOWNS)
        windy = {s.code for s in self.sites.values() if s.town == town}
        cranes = [d for d in self.of_type("crane") if d.site_code in windy]
        chosen = cranes[: max(1, len(self.sites) // 30)]
        span = self.window(30 * MINUTE, lead=5 * MINUTE, tail=2 * MINUTE, night=False)
        if span is None:
            return
        for device in chosen:
            self.add(Kind.CRANE_WIND, device, span, [Expected(device.code, "crane_wind", "warning")])

    def _offline(self, count: int) -> None:
        """At most one offline device a site, so each span is one ``device_offline`` alarm (source
        ``site:<code>``); silence for 3 x the interval raises it, so the span ends well after that."""
        taken: set[str] = set()
        for device in self.rng.sample(self.of_type_any(), len(self.of_type_any())):
            if len(taken) >= count:
                return
            if device.site_code in taken:
                continue
            scenario_s = self.end - self.begin
            duration = min(self.rng.uniform(2, 5) * 3600, 0.35 * scenario_s)
            duration = max(duration, 4 * device.interval_s + 4 * MINUTE)
            span = self.window(duration, lead=10 * MINUTE, tail=3 * device.interval_s + 3 * MINUTE)
            if span is None:
                return
            taken.add(device.site_code)
            self.busy.add(device.code)
            expects = (Expected(f"site:{device.site_code}", "device_offline", "warning"),)
            backlog = len(taken) % 2 == 1  # half store and forward their readings on return
            self.out.append(
                Injected(Kind.OFFLINE, device.site_code, device.code, span[0], span[1], expects, backlog)
            )

    def of_type_any(self) -> list[DeviceInfo]:
        return [d for d in self.devices if d.code not in self.busy]
