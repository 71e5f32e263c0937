"""Plays a scenario in compressed time, and keeps the bridge's clock-bound jobs on simulated time.

``play`` publishes the schedule over MQTT, ``speed`` simulated seconds per wall second. ``drive``
runs beside a bridge: the rules already judge device time, but the offline check, the escalation of
unacknowledged majors and the outbox housekeeping (digests, escalation settling) take a ``now``; it
calls them every ``tick_s`` of simulated time, each once the bridge has taken in everything published
up to that time (the publisher's order is the broker's order to one subscriber), after the alarm
changes already decided are applied. So a compressed day is judged as the real one would be,
whatever the machine's speed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import aiomqtt

from iot_bridge.bridge import Bridge
from iot_bridge.city_day.scenario import Scenario
from iot_bridge.city_day.values import schedule
from iot_bridge.mqtt import MqttTarget
from iot_bridge.simulate import Outlet

log = logging.getLogger(__name__)
Housekeeping = Callable[[dt.datetime], Awaitable[object]]


def at_utc(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


@dataclass
class SimClock:
    """The simulated now, for anything that takes a clock (the outbox dispatcher, the player's gate)."""

    now: dt.datetime
    _moved: asyncio.Event = field(default_factory=asyncio.Event, repr=False, compare=False)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, now: dt.datetime) -> None:
        self.now = now
        self._moved.set()

    async def reach(self, epoch: float) -> None:
        """Wait until the clock shows ``epoch`` or later."""
        while self.now.timestamp() < epoch:
            self._moved.clear()
            await self._moved.wait()


async def play(
    scenario: Scenario,
    *,
    mqtt_url: str,
    root: str,
    speed: float,
    gate: SimClock | None = None,
    lookahead_s: float = 120.0,
    max_in_flight: int = 10,
) -> int:
    """Publish every message at ``(send_at - start) / speed`` wall seconds; returns how many. With a
    ``gate`` (the clock ``drive`` advances), never more than ``lookahead_s`` ahead of it: a check at
    simulated time T must not see a device's return at T + 10 minutes because the machine was slow."""
    target = MqttTarget.from_url(mqtt_url)
    began = time.monotonic()
    sent = 0
    async with aiomqtt.Client(
        target.host,
        target.port,
        username=target.username,
        password=target.password,
        protocol=aiomqtt.ProtocolVersion.V5,
    ) as client:
        outlet = Outlet(client, root=root, tcp_writer=None, max_in_flight=max_in_flight)
        for message in schedule(scenario):
            ahead = (message.send_at - scenario.start) / speed - (time.monotonic() - began)
            if ahead > 0:
                await asyncio.sleep(ahead)
            if gate is not None:
                await gate.reach(message.send_at - lookahead_s)
            await outlet.send(message.device, message.values, at=at_utc(message.at))
            sent += 1
        await outlet.drain()
    return sent


@dataclass
class Driven:
    ticks: int = 0
    stalled: bool = False


async def drive(
    bridge: Bridge,
    *,
    scenario: Scenario,
    send_times: Sequence[float],
    clock: SimClock,
    tick_s: float = 60.0,
    housekeeping: Housekeeping | None = None,
    margin_s: float = 5.0,
    stall_s: float = 60.0,
) -> Driven:
    """Tick the simulated clock from ``scenario.start`` to its end, following the bridge's intake
    (``send_times``: the schedule's send times, in order). Gives up when nothing arrives for
    ``stall_s`` wall seconds (a lost message would otherwise hold the clock forever)."""
    stats = bridge.pipeline.stats
    total = len(send_times)
    driven = Driven()
    tick = scenario.start + tick_s
    seen, since = -1, time.monotonic()
    while tick <= scenario.end:
        handled = stats["mqtt_messages"]
        if handled != seen:
            seen, since = handled, time.monotonic()
        horizon = scenario.end + margin_s if handled >= total else send_times[handled - 1] if handled else 0.0
        if horizon - margin_s < tick:
            if time.monotonic() - since > stall_s:
                log.error("city day stalled at %s of %s messages", handled, total)
                driven.stalled = True
                return driven
            await asyncio.sleep(0.02)
            continue
        await tick_once(bridge, now=at_utc(tick), clock=clock, housekeeping=housekeeping)
        driven.ticks += 1
        tick += tick_s
    return driven


async def tick_once(
    bridge: Bridge, *, now: dt.datetime, clock: SimClock, housekeeping: Housekeeping | None
) -> None:
    clock.advance(now)
    await bridge.pipeline.drain()
    await bridge.check_offline(now=now)
    await bridge.pipeline.drain()
    await bridge.escalate(now=now)
    if housekeeping is not None:
        await housekeeping(now)
