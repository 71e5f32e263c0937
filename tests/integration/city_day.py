"""A city day run, shared by the integration test and the benchmark: the scenario's registry in the
database (sites, devices, managers bound, night permits, the duty roster), a bridge with the shipped
rules whose clock-bound jobs follow the simulated clock, a recording outbox dispatcher on the same
clock, and the checker's report at the end."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from adapters.infrastructure import Infrastructure
from adapters.wechat.dispatcher import BATCH_SIZE, Dispatcher
from domain.alerts.models import SiteBinding
from domain.notifications import services as outbox
from domain.notifications.delivery import DeliveryContext
from domain.notifications.escalation import Fallback
from domain.notifications.models import DutyRosterEntry
from domain.notifications.rules import ESCALATION_DEADLINE
from domain.permits.models import NightWorkPermit
from domain.projects.models import Device, Enterprise, Project, Site
from domain.projects.rules import DeviceType, ProjectKind, ProjectStage
from iot_bridge.bridge import Bridge, BridgeOptions
from iot_bridge.city_day.check import Report, judge, load_outcome
from iot_bridge.city_day.player import Driven, SimClock, at_utc, drive, play, tick_once
from iot_bridge.city_day.scenario import LOCAL_TZ, Scenario
from iot_bridge.city_day.values import send_times
from tests.integration.iot_helpers import running

ADMINS = ["oSimAdmin0000000001"]
NEVER = 1e9  # the bridge's own wall-clock jobs are off: ``drive`` runs them on the simulated clock


@dataclass
class CityDayRun:
    report: Report
    sent: int
    wall_s: float
    cpu_s: float
    driven: Driven
    stats: dict[str, int] = field(default_factory=dict)


async def seed_registry(scenario: Scenario) -> None:
    enterprise = await Enterprise.create(name="城市一日建设公司", uscc="913310800000SIMDAY")
    sites: dict[str, Site] = {}
    for sim in scenario.sites:
        project = await Project.create(
            code=sim.project_code,
            name=f"模拟项目{sim.project_code[-4:]}",
            kind=ProjectKind.RESIDENTIAL,
            stage=ProjectStage.CONSTRUCTION,
            town=sim.town,
            address="模拟路",
            lat=28.37,
            lng=121.37,
            contractor=enterprise,
        )
        sites[sim.code] = await Site.create(
            code=sim.code, project=project, name="工地", lat=28.37, lng=121.37
        )
    await Device.bulk_create(
        [
            Device(
                code=d.code,
                site=sites[d.site_code],
                device_type=DeviceType(d.device_type),
                interval_s=d.interval_s,
            )
            for d in scenario.devices
        ],
        batch_size=1000,
    )
    day = dt.datetime.fromtimestamp(scenario.start, LOCAL_TZ).date()
    bound = dt.datetime.fromtimestamp(scenario.start, dt.UTC) - dt.timedelta(days=30)
    await SiteBinding.bulk_create(
        [
            SiteBinding(
                site_code=s.code, project_code=s.project_code, openid=s.manager_openid, bound_at=bound
            )
            for s in scenario.sites
        ],
        batch_size=1000,
    )
    # A permit covers the nights before, of and after the day, so both of the day's nights count.
    await NightWorkPermit.bulk_create(
        [
            NightWorkPermit(
                certificate_no=f"YJ-{s.code}",
                site_code=s.code,
                valid_from=day - dt.timedelta(days=1),
                valid_to=day + dt.timedelta(days=1),
                night_start="22:00",
                night_end="06:00",
                works="混凝土浇筑",
                notice_posted=True,
            )
            for s in scenario.sites
            if s.night_permit
        ]
    )
    await DutyRosterEntry.create(
        department="housing",
        name="值班员",
        openid="oSimDuty00000000001",
        phone="13800000000",
        updated_at=bound,
    )


def recording_dispatcher(infra: Infrastructure, clock: SimClock) -> Callable[[dt.datetime], Awaitable[int]]:
    """The outbox dispatcher without WeChat credentials (messages are recorded, which counts as
    delivered), on the simulated clock: digests are flushed and escalations settled as time passes."""
    dispatcher = Dispatcher(
        infra=infra,
        context=DeliveryContext(sender=None, catalog=outbox.template_catalog(), admin_openids=tuple(ADMINS)),
        poll_interval_s=1.0,
        clock=clock,
        escalation_fallback=Fallback(
            sms=None, sms_template_code="", admin_openids=tuple(ADMINS), deadline=ESCALATION_DEADLINE
        ),
    )

    async def housekeeping(now: dt.datetime) -> int:
        clock.advance(now)
        handled = total = BATCH_SIZE
        while handled >= BATCH_SIZE:
            handled = await dispatcher.run_once()
            total += handled
        return total - BATCH_SIZE

    return housekeeping


async def run_city_day(
    scenario: Scenario,
    *,
    infra: Infrastructure,
    mqtt_url: str,
    root: str,
    speed: float,
    tick_s: float = 60.0,
    flush_interval_s: float = 0.5,
    publish: Callable[[SimClock], Coroutine[Any, Any, int]] | None = None,
    on_tick: Callable[[dt.datetime], Awaitable[None]] | None = None,
) -> CityDayRun:
    """Seeded registry assumed. ``publish`` defaults to playing the scenario in this process, gated
    by the simulated clock; ``on_tick`` runs after each tick (to pass the clock to a publisher
    process)."""
    clock = SimClock(at_utc(scenario.start))
    dispatch = recording_dispatcher(infra, clock)

    async def housekeeping(now: dt.datetime) -> None:
        await dispatch(now)
        if on_tick is not None:
            await on_tick(now)

    times = send_times(scenario)
    options = BridgeOptions(
        mqtt_url=mqtt_url,
        topic_root=root,
        hj212_port=None,
        offline_check_s=NEVER,
        escalation_check_s=NEVER,
        duty_openids=ADMINS,
        flush_interval_s=flush_interval_s,
    )
    bridge = Bridge(infra, options)
    async with running(bridge):
        wall0, cpu0 = time.monotonic(), time.process_time()
        if publish is None:
            publisher = asyncio.create_task(
                play(scenario, mqtt_url=mqtt_url, root=root, speed=speed, gate=clock, lookahead_s=2 * tick_s)
            )
        else:
            publisher = asyncio.create_task(publish(clock))
        driven = await drive(
            bridge, scenario=scenario, send_times=times, clock=clock, tick_s=tick_s, housekeeping=housekeeping
        )
        if driven.stalled:  # the player may wait for a clock that no longer moves
            publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await publisher
            sent = 0
        else:
            sent = await publisher
        end = at_utc(scenario.end)
        await tick_once(bridge, now=end, clock=clock, housekeeping=housekeeping)
        await bridge.pipeline.flush(final=True)
        # What the last ticks enqueued is recorded, then settled once its deadline has passed.
        await dispatch(end + ESCALATION_DEADLINE)
        await dispatch(end + ESCALATION_DEADLINE)
        wall_s, cpu_s = time.monotonic() - wall0, time.process_time() - cpu0
        stats = dict(bridge.pipeline.stats)
        # Readings behind their device's watermark (the backlogs): they only fed the windows.
        stats["late_readings"] = sum(state.late for state in bridge.pipeline.engine.states.values())
    report = judge(scenario, await load_outcome())
    if driven.stalled:
        report.problems.append(f"stalled: {stats.get('mqtt_messages', 0)} of {len(times)} messages taken in")
    if sent != len(times):
        report.problems.append(f"published {sent} of {len(times)} messages")
    return CityDayRun(report, sent, wall_s, cpu_s, driven, stats)


def summary(run: CityDayRun) -> dict[str, Any]:
    return {
        "ok": run.report.ok,
        "expected_alarms": run.report.expected,
        "raised_exactly_once": run.report.raised_once,
        "problems": run.report.problems[:20],
        **run.report.figures,
        "messages": run.sent,
        "readings": run.stats.get("readings", 0),
        "late_readings": run.stats.get("late_readings", 0),
        "duplicates": run.stats.get("duplicates", 0),
        "ticks": run.driven.ticks,
        "wall_s": round(run.wall_s, 1),
        "cpu_s": round(run.cpu_s, 1),
        "cpu_us_per_msg": round(run.cpu_s / max(1, run.sent) * 1e6, 1),
    }
