"""A city day from the command line (``python -m iot_bridge.city_day``).

    python -m iot_bridge.city_day plan --sites 30 --hours 1 --start 21:40 [--day 2026-12-05] [--seed 7]
    python -m iot_bridge.city_day play --sites 30 --hours 1 --start 21:40 --speed 120 \\
        [--mqtt-url mqtt://127.0.0.1:1883] [--root wenling]

``plan`` prints the scenario (counts and the injected list with the alarms each must raise) as JSON;
``play`` publishes it in compressed time. The day defaults to yesterday (Asia/Shanghai), so every
reading is stamped in the past. A checked run, with the bridge's offline check and escalations on
the simulated clock, is ``python -m tests.bench.bench_city_day`` (see iot_bridge/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import threading
from typing import Any

from iot_bridge.city_day.scenario import LOCAL_TZ, Scenario, build_scenario


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m iot_bridge.city_day", description=__doc__.splitlines()[0]
    )
    parser.add_argument("command", choices=["plan", "play"])
    add_scenario_arguments(parser)
    parser.add_argument("--speed", type=float, default=120.0, help="simulated seconds per wall second")
    parser.add_argument("--mqtt-url", default="mqtt://127.0.0.1:1883")
    parser.add_argument("--root", default="wenling")
    parser.add_argument(
        "--follow-stdin",
        action="store_true",
        help="stay at most --lookahead simulated seconds ahead of the epoch seconds read from stdin",
    )
    parser.add_argument("--lookahead", type=float, default=240.0)
    return parser.parse_args(argv)


def add_scenario_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sites", type=int, default=900)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--start", default="00:00", help="local start time HH:MM")
    parser.add_argument("--day", default="", help="local date; default yesterday")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--interval", type=int, default=60, help="dust and noise reporting interval, s")
    parser.add_argument("--crane-interval", type=int, default=30)


def scenario_from(args: argparse.Namespace) -> Scenario:
    day = (
        dt.date.fromisoformat(args.day)
        if args.day
        else dt.datetime.now(LOCAL_TZ).date() - dt.timedelta(days=1)
    )
    return build_scenario(
        seed=args.seed,
        sites=args.sites,
        day=day,
        start=dt.time.fromisoformat(args.start),
        hours=args.hours,
        interval_s=args.interval,
        crane_interval_s=args.crane_interval,
    )


def describe(scenario: Scenario) -> dict[str, Any]:
    return {
        "start": dt.datetime.fromtimestamp(scenario.start, LOCAL_TZ).isoformat(),
        "end": dt.datetime.fromtimestamp(scenario.end, LOCAL_TZ).isoformat(),
        "sites": len(scenario.sites),
        "devices": len(scenario.devices),
        "uncommissioned": sorted(scenario.uncommissioned),
        "night_permits": sorted(s.code for s in scenario.sites if s.night_permit),
        "injected": [
            {
                "kind": str(event.kind),
                "device": event.device_code,
                "from": dt.datetime.fromtimestamp(event.start, LOCAL_TZ).strftime("%H:%M"),
                "to": dt.datetime.fromtimestamp(event.end, LOCAL_TZ).strftime("%H:%M"),
                "backlog": event.backlog,
                "expects": [f"{e.alarm_type}/{e.severity} on {e.source}" for e in event.expects],
            }
            for event in scenario.injected
        ],
    }


async def _play(scenario: Scenario, args: argparse.Namespace) -> int:
    from iot_bridge.city_day.player import SimClock, at_utc, play  # noqa: PLC0415 - only ``play`` needs MQTT

    gate = SimClock(at_utc(scenario.start)) if args.follow_stdin else None

    loop = asyncio.get_running_loop()

    def follow(clock: SimClock) -> None:
        """The driving process writes its simulated clock, one epoch a line; EOF lifts the gate.
        A daemon thread: a blocked ``readline`` must not keep the process alive once all is sent."""
        for line in sys.stdin:
            loop.call_soon_threadsafe(clock.advance, at_utc(float(line)))
        loop.call_soon_threadsafe(clock.advance, at_utc(scenario.end + 86_400))

    if gate is not None:
        threading.Thread(target=follow, args=(gate,), daemon=True).start()
    return await play(
        scenario,
        mqtt_url=args.mqtt_url,
        root=args.root,
        speed=args.speed,
        gate=gate,
        lookahead_s=args.lookahead,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scenario = scenario_from(args)
    if args.command == "plan":
        print(json.dumps(describe(scenario), ensure_ascii=False, indent=1))
        return 0
    sent = asyncio.run(_play(scenario, args))
    print(json.dumps({"sent": sent, "devices": len(scenario.devices), "speed": args.speed}))
    return 0
