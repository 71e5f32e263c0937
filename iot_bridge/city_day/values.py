"""What each device reports during the scenario, and when it is sent (pure, seeded per device).

Baselines follow the working day: dust and noise are higher in working hours (07:00-12:00,
14:00-20:00), lower over the noon break and quiet at night; cranes idle outside working hours and
the wind freshens in the afternoon, but stays under 8 m/s. Every baseline stays inside the shipped
limits with a margin, so an alarm outside the injected list is a fault, not noise. An injected event
replaces the baseline of its device while it lasts.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass

from domain.alerts.readings import DeviceInfo
from iot_bridge.city_day.scenario import Injected, Kind, Scenario, local_hour


@dataclass(frozen=True, slots=True)
class Message:
    send_at: float  # simulated time it is published (later than ``at`` for a backlog)
    device: DeviceInfo
    at: float  # device time stamped in the payload
    values: dict[str, float]


def _period(hour: float) -> str:
    if 7 <= hour < 12 or 14 <= hour < 20:
        return "work"
    if 12 <= hour < 14:
        return "noon"
    if 6 <= hour < 7 or 20 <= hour < 22:
        return "edge"
    return "night"


_PM10 = {"work": (75, 125), "noon": (60, 95), "edge": (50, 85), "night": (35, 70)}
_LEQ = {"work": (58, 66), "noon": (52, 58), "edge": (45, 52), "night": (40, 47)}


def _active(events: tuple[Injected, ...], at: float) -> Kind | None:
    for event in events:
        if event.kind is not Kind.OFFLINE and event.start <= at < event.end:
            return event.kind
    return None


def _dust(rng: random.Random, period: str, kind: Kind | None) -> dict[str, float]:
    if kind is Kind.DUST_EPISODE:
        pm10 = rng.uniform(400, 440)
        pm25 = pm10 * 0.5
    else:
        pm10 = rng.uniform(*_PM10[period])
        pm25 = pm10 * rng.uniform(0.40, 0.48)
    return {
        "pm10": round(pm10, 1),
        "pm25": round(pm25, 1),
        "wind_mps": round(rng.uniform(0.5, 4.5), 1),
        "temp_c": round(rng.uniform(8, 22), 1),
        "humidity_pct": round(rng.uniform(45, 85), 1),
    }


def _noise(rng: random.Random, period: str, kind: Kind | None) -> dict[str, float]:
    if kind is Kind.NIGHT_NOISE:
        leq, peak = rng.uniform(60, 63), rng.uniform(3, 6)  # Lmax stays under 55 + 15
    elif kind is Kind.PERMITTED_NIGHT_WORK:
        leq, peak = rng.uniform(58, 61), rng.uniform(3, 6)
    else:
        leq, peak = rng.uniform(*_LEQ[period]), rng.uniform(3, 8)
    return {"leq_db": round(leq, 1), "lmax_db": round(leq + peak, 1)}


def _crane(rng: random.Random, hour: float, period: str, kind: Kind | None) -> dict[str, float]:
    working = period == "work"
    moment = rng.uniform(30, 80) if working else rng.uniform(0, 5)
    load_t = rng.uniform(0.5, 4.5) if working else rng.uniform(0, 0.3)
    wind = rng.uniform(0.5, 7.5) if 13 <= hour < 17 else rng.uniform(0.5, 5.5)
    tilt = rng.uniform(0.02, 0.12)
    if kind is Kind.CRANE_OVERLOAD:
        moment, load_t = rng.uniform(101, 107), rng.uniform(3.0, 4.0)  # the radius, not the load
    elif kind is Kind.CRANE_TILT:
        tilt = rng.uniform(0.26, 0.30)
    elif kind is Kind.CRANE_WIND:
        wind = rng.uniform(8.5, 10.2)
    return {
        "moment_pct": round(moment, 1),
        "load_t": round(load_t, 2),
        "rated_load_t": 6.0,
        "radius_m": round(rng.uniform(5, 50), 1),
        "wind_mps": round(wind, 1),
        "tilt_deg": round(tilt if rng.random() < 0.5 else -tilt, 3),
    }


def values_at(
    device: DeviceInfo, at: float, *, rng: random.Random, events: tuple[Injected, ...]
) -> dict[str, float]:
    hour = local_hour(at)
    period, kind = _period(hour), _active(events, at)
    if device.device_type == "dust":
        return _dust(rng, period, kind)
    if device.device_type == "noise":
        return _noise(rng, period, kind)
    return _crane(rng, hour, period, kind)


def device_messages(scenario: Scenario, device: DeviceInfo) -> Iterator[Message]:
    """One device's messages in the order it sends them. While offline it sends nothing; with a
    backlog, the span's readings go out on its return, shuffled, before its first live reading."""
    if device.code in scenario.uncommissioned:
        return
    rng = random.Random(f"{scenario.seed}:{device.code}")
    events = scenario.by_device.get(device.code, ())
    offline = [e for e in events if e.kind is Kind.OFFLINE]
    backlog: list[tuple[float, dict[str, float]]] = []
    at = scenario.start + scenario.phases[device.code]
    while at < scenario.end:
        values = values_at(device, at, rng=rng, events=events)
        span = next((e for e in offline if e.start <= at < e.end), None)
        if span is not None:
            if span.backlog:
                backlog.append((at, values))
        else:
            if backlog:
                rng.shuffle(backlog)
                yield from (Message(at, device, stamped, old) for stamped, old in backlog)
                backlog = []
            yield Message(at, device, at, values)
        at += device.interval_s


def schedule(scenario: Scenario) -> Iterator[Message]:
    """Every message of the scenario in the order it is published (by simulated send time)."""
    streams = [device_messages(scenario, device) for device in scenario.devices]
    return heapq.merge(*streams, key=lambda message: message.send_at)


def send_times(scenario: Scenario) -> list[float]:
    return [message.send_at for message in schedule(scenario)]
