"""IoT ingest benchmark (<= 60 s): the bridge with rules on vs a bare aiomqtt consumer that only does
``json.loads``, both fed through the real Mosquitto (MQTT_URL) by a publisher in another process at
the same offered rate, in the same run. By default both go through a Mosquitto of the bench's own,
configured as ``config/mosquitto-production.conf`` is where delivery is concerned (persistence, queues
of 100,000): the machine's broker keeps Mosquitto's default ``max_queued_messages`` of 1,000, which
drops QoS 1 messages for any consumer a second behind (``--broker env`` uses MQTT_URL as it is).

Reports for each: messages received, loss (published - received), the achieved rate, and CPU seconds
per message in this process (capacity = 1 / that, independent of the offered rate); the ratio of the
two capacities; and publish -> alarm stored latency (p50/p99) for crane overloads sprinkled in the
stream (each a new alarm in the database). One JSON line on stdout.

    MQTT_URL=mqtt://127.0.0.1:1883 python -m tests.bench.bench_iot [--rate 3000] [--seconds 6]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiomqtt
import psutil
from tortoise import Tortoise
from tortoise.migrations.api import migrate

from config.container import build_infrastructure, close_database, install_policies
from config.database import tortoise_config
from config.heap import settle_heap
from config.settings import Settings
from domain.alerts.models import Alarm
from domain.projects.models import Device, Enterprise, Project, Site
from domain.projects.rules import DeviceType, ProjectKind, ProjectStage
from iot_bridge.bridge import Bridge, BridgeOptions
from iot_bridge.mqtt import MqttTarget
from tests.integration.private_broker import private_broker

SITES = 300
OVERLOADS = 60  # crane overloads in the stream, each a new alarm: publish -> alarm latency samples
# QUIET_NOISE: the noise meters stay under the night limits (GB 12523: Leq 55, Lmax 70), so the run
# measures the same thing at any hour. They used to send 55-59 dB, which after 22:00 (Shanghai)
# made 240 night-noise alarms at once and the overloads' p99 a measure of that storm (860 ms).
PUBLISHER = r"""
import json, sys, time
import paho.mqtt.client as mqtt
host, port, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rate, seconds, devices_file, OVERLOADS = float(sys.argv[4]), float(sys.argv[5]), sys.argv[6], int(sys.argv[7])
devices = json.load(open(devices_file))
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
client.max_inflight_messages_set(1000)
client.max_queued_messages_set(0)
client.connect(host, port)
client.loop_start()
total = int(rate * seconds)
cranes = [d for d in devices if d[2] == "crane"][:OVERLOADS]
overload_every = max(1, total // max(1, len(cranes)))
began = time.monotonic()
infos = []
for n in range(total):
    site, code, kind = devices[n % len(devices)]
    if n % overload_every == overload_every // 2 and cranes:
        site, code, kind = cranes[(n // overload_every) % len(cranes)]
        body = {"moment_pct": 115.0, "wind_mps": 3.0}
    elif kind == "dust":
        body = {"pm10": 60.0 + n % 20, "pm25": 30.0}
    elif kind == "noise":
        body = {"leq_db": 45.0 + n % 5, "lmax_db": 58.0}  # within the night limits too: see QUIET_NOISE
    else:
        body = {"moment_pct": 40.0 + n % 30, "wind_mps": 3.0}
    body["ts"] = time.time()
    infos.append(client.publish(f"{root}/{site}/{kind}/{code}/telemetry", json.dumps(body), qos=1))
    ahead = (n + 1) / rate - (time.monotonic() - began)
    if ahead > 0:
        time.sleep(ahead)
for info in infos:
    info.wait_for_publish(30)
print(json.dumps({"published": total, "seconds": round(time.monotonic() - began, 3)}))
client.loop_stop()
client.disconnect()
"""


async def reset_postgres(url: str) -> None:
    import asyncpg  # noqa: PLC0415 - only for the PostgreSQL variant

    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


async def make_registry() -> list[tuple[str, str, str]]:
    enterprise = await Enterprise.create(name="基准建设公司", uscc="913310800000BENCH1")
    devices: list[tuple[str, str, str]] = []
    for index in range(SITES):
        number = f"{index + 1:04d}"
        project = await Project.create(
            code=f"WL-2026-{number}",
            name=f"基准项目{number}",
            kind=ProjectKind.RESIDENTIAL,
            stage=ProjectStage.CONSTRUCTION,
            town="太平街道",
            address="基准路",
            lat=28.3,
            lng=121.3,
            contractor=enterprise,
        )
        site = await Site.create(
            code=f"WL-2026-{number}-S1", project=project, name="工地", lat=28.3, lng=121.3
        )
        for kind in (DeviceType.DUST, DeviceType.NOISE, DeviceType.CRANE):
            code = f"WL{kind.value.upper()}{number}01"
            await Device.create(code=code, site=site, device_type=kind, interval_s=60)
            devices.append((site.code, code, kind.value))
    return devices


def start_publisher(
    target: MqttTarget, root: str, rate: float, seconds: float, devices_file: Path
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            PUBLISHER,
            target.host,
            str(target.port),
            root,
            str(rate),
            str(seconds),
            str(devices_file),
            str(OVERLOADS),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )


async def wait_publisher(process: subprocess.Popen[str], *, seconds: float) -> dict[str, Any]:
    # The publisher runs for ``seconds``; a soak runs for many minutes, so the limit follows it.
    out, _ = await asyncio.to_thread(process.communicate, timeout=seconds + 120)
    return dict(json.loads(out.strip().splitlines()[-1]))


async def bare_consumer(
    target: MqttTarget, devices_file: Path, *, rate: float, seconds: float
) -> dict[str, Any]:
    root = f"benchbare{uuid.uuid4().hex[:6]}"
    received = 0
    first = last = 0.0
    async with aiomqtt.Client(target.host, target.port, protocol=aiomqtt.ProtocolVersion.V5) as client:
        await client.subscribe(f"{root}/+/+/+/telemetry", qos=1)
        publisher = start_publisher(target, root, rate, seconds, devices_file)
        cpu0 = time.process_time()
        done = asyncio.create_task(wait_publisher(publisher, seconds=seconds))
        # A quiet stream ends the loop: the publisher is done and the last messages are in.
        with contextlib.suppress(TimeoutError):
            while True:
                async with asyncio.timeout(3.0 if done.done() else 30.0):
                    message = await anext(client.messages)
                json.loads(message.payload)
                received += 1
                last = time.monotonic()
                first = first or last
        cpu = time.process_time() - cpu0  # idle waiting costs almost no CPU
        published = (await done)["published"]
    return {
        "received": received,
        "lost": published - received,
        "rate": round(received / max(1e-9, last - first), 1),
        "cpu_us_per_msg": round(cpu / max(1, received) * 1e6, 1),
    }


async def bridge_consumer(
    target: MqttTarget, devices_file: Path, *, rate: float, seconds: float, tmp: Path
) -> dict[str, Any]:
    root = f"benchbridge{uuid.uuid4().hex[:6]}"
    latencies: list[float] = []

    def on_alarm(_device: str, _site: str, outcome: Any, reading: Any) -> None:
        if outcome.kind == "raise" and reading is not None:
            latencies.append(time.time() - reading.at.timestamp())

    settings = Settings(data_dir=tmp, seed_demo_data=False, redis_key_prefix=f"bench:{uuid.uuid4().hex[:8]}:")
    infra = build_infrastructure(settings)[0]
    bridge = Bridge(
        infra,
        BridgeOptions(
            mqtt_url=f"mqtt://{target.host}:{target.port}",
            topic_root=root,
            hj212_port=None,
            on_alarm=on_alarm,
        ),
    )
    task = asyncio.create_task(bridge.run())
    await asyncio.wait_for(bridge.ready.wait(), 10)
    assert bridge.mqtt is not None
    await asyncio.wait_for(bridge.mqtt.connected.wait(), 10)
    stats = bridge.pipeline.stats
    publisher = start_publisher(target, root, rate, seconds, devices_file)
    cpu0 = time.process_time()
    first = last = 0.0
    seen = 0
    done = asyncio.create_task(wait_publisher(publisher, seconds=seconds))
    idle_since = time.monotonic()
    process = psutil.Process()
    rss_mb: list[float] = []  # sampled every 10 s: memory must stay flat over a long soak
    next_sample = time.monotonic()
    while True:
        await asyncio.sleep(0.02)
        if time.monotonic() >= next_sample:
            rss_mb.append(round(process.memory_info().rss / 2**20, 1))
            next_sample += 10.0
        if stats["readings"] != seen:
            seen = stats["readings"]
            last = time.monotonic()
            first = first or last
            idle_since = last
        elif done.done() and time.monotonic() - idle_since > 3.0:
            break
    await bridge.pipeline.drain()
    cpu = time.process_time() - cpu0
    published = (await done)["published"]
    alarms = await Alarm.all().count()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    ordered = sorted(latencies)
    return {
        "received": seen,
        "lost": published - seen,
        "rate": round(seen / max(1e-9, last - first), 1),
        "cpu_us_per_msg": round(cpu / max(1, seen) * 1e6, 1),
        "alarms": alarms,
        "alarm_latency_ms_p50": round(statistics.median(ordered) * 1000, 1) if ordered else None,
        "alarm_latency_ms_p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1)
        if ordered
        else None,
        "drops": bridge.pipeline.drops(),
        "acknowledged": stats["acknowledged"],
        "rss_mb_samples": len(rss_mb),
        "rss_mb_first": rss_mb[0] if rss_mb else None,
        "rss_mb_after_warmup": rss_mb[min(len(rss_mb) - 1, 6)] if rss_mb else None,
        "rss_mb_last": rss_mb[-1] if rss_mb else None,
        "rss_mb_max": max(rss_mb) if rss_mb else None,
    }


async def open_bench_database(tmp: Path) -> str:
    """BENCH_DATABASE_URL (a PostgreSQL database the bench may wipe: its public schema is recreated)
    or a SQLite file in ``tmp``, migrated and opened; returns its URL."""
    db_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite://{tmp / 'bench.sqlite3'}"
    if db_url.startswith(("postgres://", "postgresql://")):
        await reset_postgres(db_url)
    await migrate(config=tortoise_config(db_url))
    await close_database()
    await Tortoise.init(config=tortoise_config(db_url))
    return db_url


async def main(
    rate: float, seconds: float, bare_seconds: float | None = None, *, broker: str = "private"
) -> dict[str, Any]:
    url = os.environ.get("MQTT_URL", "")
    if broker == "env" and not url:
        return {"bench": "iot", "skipped": "MQTT_URL is not set"}
    await install_policies()  # the bridge's rules come from the deployed policies, as at start-up
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        async with contextlib.AsyncExitStack() as stack:
            if broker == "private":
                own = await stack.enter_async_context(private_broker(tmp / "broker"))
                url = own.url
            target = MqttTarget.from_url(url)
            db_url = await open_bench_database(tmp)
            try:
                devices = await make_registry()
                devices_file = tmp / "devices.json"
                devices_file.write_text(json.dumps(devices))
                settle_heap()  # as the bridge's own process does once started (config.cli.run_worker)
                bare = await bare_consumer(target, devices_file, rate=rate, seconds=bare_seconds or seconds)
                bridge = await bridge_consumer(target, devices_file, rate=rate, seconds=seconds, tmp=tmp)
            finally:
                await close_database()
    capacity_ratio = round(bare["cpu_us_per_msg"] / max(1e-9, bridge["cpu_us_per_msg"]), 3)
    return {
        "bench": "iot",
        "database": db_url.split(":", 1)[0],
        "broker": broker,
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "offered_rate": rate,
        "seconds": seconds,
        "devices": len(devices),
        "bare": bare,
        "bridge": bridge,
        "bridge_capacity_msgs_per_cpu_s": round(1e6 / max(1e-9, bridge["cpu_us_per_msg"])),
        "bare_capacity_msgs_per_cpu_s": round(1e6 / max(1e-9, bare["cpu_us_per_msg"])),
        "capacity_ratio_bridge_to_bare": capacity_ratio,
        "zero_loss": bridge["lost"] == 0,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=3000)
    parser.add_argument("--seconds", type=float, default=6)
    # A memory soak: run the bridge for --seconds 600 but the baseline only briefly.
    parser.add_argument("--bare-seconds", type=float, default=None)
    parser.add_argument("--broker", choices=["private", "env"], default="private")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.rate, args.seconds, args.bare_seconds, broker=args.broker))))
