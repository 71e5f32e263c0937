"""A city day, simulated (issue #16): ~900 sites and ~3,000 devices play one whole day through
Mosquitto and the bridge with the shipped rules, as fast as the bridge takes it (``--speed`` is the
ceiling; the player stays at most two ticks ahead of the simulated clock the bridge's jobs follow).

Reports the checker's verdict (every injected violation and condition raised exactly one alarm,
nothing else, none about never-commissioned devices, every escalation delivered or alerted), alarms
per site-day, notices per manager-day, escalations, the wall time, and the bridge's CPU per message
against the bare consumer of ``bench_iot`` measured in the same run at the day's achieved rate
(ratio = bare / bridge CPU per message; target >= 0.5). The publisher runs in its own process
(``python -m iot_bridge.city_day play --follow-stdin``), so this process's CPU is the bridge's and its
clock-bound jobs'. One JSON line on stdout.

    python -m tests.bench.bench_city_day [--sites 900] [--hours 24] [--interval 300] [--speed 2000]
        [--broker private|env]   BENCH_DATABASE_URL: a PostgreSQL database it may wipe
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from config.container import build_infrastructure, close_database, install_policies
from config.heap import settle_heap
from config.settings import Settings
from iot_bridge.city_day.cli import add_scenario_arguments, scenario_from
from iot_bridge.city_day.player import SimClock
from iot_bridge.city_day.scenario import Scenario
from iot_bridge.mqtt import MqttTarget
from tests.bench.bench_iot import bare_consumer, open_bench_database
from tests.integration.city_day import run_city_day, seed_registry, summary
from tests.integration.private_broker import private_broker


def player_command(args: argparse.Namespace, *, mqtt_url: str, root: str, day: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "iot_bridge.city_day",
        "play",
        *("--sites", str(args.sites), "--hours", str(args.hours), "--start", args.start),
        *("--day", day, "--seed", str(args.seed), "--interval", str(args.interval)),
        *("--crane-interval", str(args.crane_interval), "--speed", str(args.speed)),
        *("--mqtt-url", mqtt_url, "--root", root, "--follow-stdin", "--lookahead", str(2 * args.tick)),
    ]


async def city_day(
    args: argparse.Namespace, scenario: Scenario, *, mqtt_url: str, tmp: Path
) -> dict[str, Any]:
    settings = Settings(data_dir=tmp, seed_demo_data=False, redis_key_prefix=f"bench:{uuid.uuid4().hex[:8]}:")
    infra = build_infrastructure(settings)[0]
    root = f"benchcity{uuid.uuid4().hex[:6]}"
    day = dt.datetime.fromtimestamp(scenario.start, dt.timezone(dt.timedelta(hours=8))).date().isoformat()
    command = player_command(args, mqtt_url=mqtt_url, root=root, day=day)
    players: list[asyncio.subprocess.Process] = []

    async def publish(_clock: SimClock) -> int:
        # Started only now, with the bridge subscribed: what is published before is lost.
        player = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        players.append(player)
        assert player.stdout is not None
        out = (await player.stdout.read()).decode().strip().splitlines()
        if await player.wait() != 0 or not out:
            raise RuntimeError(f"the player failed ({player.returncode})")
        return int(json.loads(out[-1])["sent"])

    async def on_tick(now: dt.datetime) -> None:
        # Once everything is published the player has exited: nobody reads the clock any more.
        for player in players:
            assert player.stdin is not None
            with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                player.stdin.write(f"{now.timestamp()}\n".encode())
                await player.stdin.drain()

    try:
        run = await run_city_day(
            scenario,
            infra=infra,
            mqtt_url=mqtt_url,
            root=root,
            speed=args.speed,
            tick_s=args.tick,
            flush_interval_s=1.0,  # the production default: flushes and rule-state checkpoints as deployed
            publish=publish,
            on_tick=on_tick,
        )
    finally:
        for player in players:
            with contextlib.suppress(ProcessLookupError):
                player.kill()
    return summary(run)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    url = os.environ.get("MQTT_URL", "")
    if args.broker == "env" and not url:
        return {"bench": "city_day", "skipped": "MQTT_URL is not set"}
    scenario = scenario_from(args)
    await install_policies()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        async with contextlib.AsyncExitStack() as stack:
            if args.broker == "private":
                url = (await stack.enter_async_context(private_broker(tmp / "broker"))).url
            db_url = await open_bench_database(tmp)
            try:
                await seed_registry(scenario)
                settle_heap()  # as the bridge's own process does once started (config.cli.run_worker)
                day = await city_day(args, scenario, mqtt_url=url, tmp=tmp)
                devices_file = tmp / "devices.json"
                listed = [(d.site_code, d.code, d.device_type) for d in scenario.devices]
                devices_file.write_text(json.dumps(listed))
                rate = min(5000.0, max(100.0, day["messages"] / max(1e-9, day["wall_s"])))
                bare = await bare_consumer(MqttTarget.from_url(url), devices_file, rate=rate, seconds=6)
            finally:
                await close_database()
    return {
        "bench": "city_day",
        "database": db_url.split(":", 1)[0],
        "broker": args.broker,
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "speed_ceiling": args.speed,
        "achieved_speed": round(args.hours * 3600 / max(1e-9, day["wall_s"]), 1),
        "achieved_rate": round(day["messages"] / max(1e-9, day["wall_s"]), 1),
        **day,
        "bare": bare,
        "capacity_ratio_bridge_to_bare": round(bare["cpu_us_per_msg"] / max(1e-9, day["cpu_us_per_msg"]), 3),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    add_scenario_arguments(parser)
    parser.set_defaults(interval=300, crane_interval=300)
    parser.add_argument("--speed", type=float, default=2000.0, help="ceiling, simulated s per wall s")
    parser.add_argument("--tick", type=float, default=120.0, help="simulated seconds between job runs")
    parser.add_argument("--broker", choices=["private", "env"], default="private")
    print(json.dumps(asyncio.run(main(parser.parse_args())), ensure_ascii=False))
