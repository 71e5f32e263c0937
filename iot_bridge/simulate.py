"""Telemetry simulator: realistic dust, noise and crane readings over MQTT and HJ 212 TCP.

    python -m iot_bridge.simulate --sites 10 --rate 50 --scenario dust_spike --duration 60
        [--mqtt-url mqtt://127.0.0.1:1883] [--hj212 127.0.0.1:9212] [--root wenling]
        [--site-codes WL-2026-0031-S1,...] [--backfill-minutes 30]

Devices come from ``--site-codes`` (demo naming: WL{TYPE}{NNNN}01) or from the database's first N
active sites. Scenarios: dust_spike (PM10 400-600 after a calm start), night_noise (Leq 72-78, Lmax
85+), crane_overload (moment climbing to 112 %), offline (the first device of each site stays silent).
``--backfill-minutes M`` stamps readings from M minutes ago onwards, one reporting interval per round,
so a 15-minute window fills in seconds (tests and demos). A whole city day in compressed time, with
offline spans, backlogs, night permits and a checked list of injected violations, is
``iot_bridge.city_day`` (``python -m iot_bridge.city_day plan|play``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass

import aiomqtt

from domain.alerts.readings import DeviceInfo
from iot_bridge.hj212 import build_frame
from iot_bridge.mqtt import MqttTarget

log = logging.getLogger(__name__)
SCENARIOS = ("normal", "dust_spike", "night_noise", "crane_overload", "offline")
DEVICE_TYPES = ("dust", "noise", "crane")


def demo_devices(site_codes: list[str]) -> list[DeviceInfo]:
    devices = []
    for site in site_codes:
        number = site.split("-")[2]
        for kind, interval in (("dust", 60), ("noise", 60), ("crane", 30)):
            devices.append(DeviceInfo(f"WL{kind.upper()}{number}01", site, kind, interval))
    return devices


def telemetry_topic(root: str, device: DeviceInfo, kind: str = "telemetry") -> str:
    return f"{root}/{device.site_code}/{device.device_type}/{device.code}/{kind}"


def values_for(device: DeviceInfo, *, scenario: str, step: int, rng: random.Random) -> dict[str, float]:
    """One reading's values; ``step`` counts rounds, the anomaly starts at round 3."""
    anomalous = step >= 3
    if device.device_type == "dust":
        pm10 = rng.uniform(400, 600) if scenario == "dust_spike" and anomalous else rng.gauss(60, 10)
        pm10 = max(5.0, pm10)
        return {
            "pm10": round(pm10, 1),
            "pm25": round(pm10 * rng.uniform(0.4, 0.6), 1),
            "wind_mps": round(rng.uniform(0.5, 4), 1),
            "temp_c": round(rng.uniform(10, 25), 1),
            "humidity_pct": round(rng.uniform(40, 80), 1),
        }
    if device.device_type == "noise":
        if scenario == "night_noise" and anomalous:
            leq = rng.uniform(72, 78)
            return {"leq_db": round(leq, 1), "lmax_db": round(leq + rng.uniform(10, 14), 1)}
        leq = rng.uniform(50, 58)
        return {"leq_db": round(leq, 1), "lmax_db": round(leq + rng.uniform(3, 8), 1)}
    moment = (
        min(112.0, 80 + 8 * (step - 2)) if scenario == "crane_overload" and anomalous else rng.uniform(30, 70)
    )
    return {
        "moment_pct": round(moment, 1),
        "load_t": round(rng.uniform(0.5, 4), 2),
        "rated_load_t": 6.0,
        "radius_m": round(rng.uniform(5, 50), 1),
        "wind_mps": round(rng.uniform(0.5, 6), 1),
    }


def json_payload(values: dict[str, float], *, at: dt.datetime) -> bytes:
    return json.dumps({"ts": at.timestamp(), **values}, separators=(",", ":")).encode()


def hj212_frame(
    device: DeviceInfo, values: dict[str, float], *, at: dt.datetime, ack: bool = False, pw: str = "123456"
) -> bytes:
    local = at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    codes = {
        "pm10": "a34002",
        "pm25": "a34004",
        "wind_mps": "a01007",
        "temp_c": "a01001",
        "humidity_pct": "a01002",
    }
    items = [{"DataTime": local.strftime("%Y%m%d%H%M%S")}]
    items += [{f"{codes[k]}-Rtd": str(v), f"{codes[k]}-Flag": "N"} for k, v in values.items() if k in codes]
    return build_frame(
        qn=local.strftime("%Y%m%d%H%M%S%f")[:17],
        st="39",
        cn="2011",
        mn=device.code,
        pw=pw,
        flag=5 if ack else 4,
        cp=items,
    )


@dataclass
class Plan:
    devices: list[DeviceInfo]
    scenario: str
    backfill_minutes: float = 0.0
    seed: int = 7

    def rounds(self) -> Iterator[tuple[int, list[tuple[DeviceInfo, dt.datetime, dict[str, float]]]]]:
        rng = random.Random(self.seed)
        start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=self.backfill_minutes)
        step = 0
        while True:
            batch = []
            for index, device in enumerate(self.devices):
                if self.scenario == "offline" and step >= 3 and index % len(DEVICE_TYPES) == 0:
                    continue
                if self.backfill_minutes:
                    at = start + dt.timedelta(seconds=step * device.interval_s)
                    at = min(at, dt.datetime.now(dt.UTC))
                else:
                    at = dt.datetime.now(dt.UTC)
                batch.append((device, at, values_for(device, scenario=self.scenario, step=step, rng=rng)))
            yield step, batch
            step += 1


class Outlet:
    """Where readings go: dust frames over HJ 212 TCP when that is connected, the rest over MQTT."""

    def __init__(
        self,
        client: aiomqtt.Client,
        *,
        root: str,
        tcp_writer: asyncio.StreamWriter | None,
        max_in_flight: int,
    ) -> None:
        self._client = client
        self._root = root
        self._tcp_writer = tcp_writer
        self._gate = asyncio.Semaphore(max_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()

    async def send(self, device: DeviceInfo, values: dict[str, float], *, at: dt.datetime) -> None:
        if self._tcp_writer is not None and device.device_type == "dust":
            self._tcp_writer.write(hj212_frame(device, values, at=at))
            return
        await self._gate.acquire()
        task = asyncio.create_task(
            self._publish(telemetry_topic(self._root, device), json_payload(values, at=at))
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, topic: str, payload: bytes) -> None:
        try:
            await self._client.publish(topic, payload, qos=1)
        finally:
            self._gate.release()

    async def drain(self) -> None:
        await asyncio.gather(*self._tasks)


async def publish_plan(
    plan: Plan,
    *,
    mqtt_url: str,
    root: str,
    rate: float,
    duration_s: float,
    hj212: tuple[str, int] | None = None,
    max_in_flight: int = 10,
    max_messages: int | None = None,
) -> int:
    """Publish at ``rate`` messages/s for ``duration_s``; returns the number sent. aiomqtt warns above
    10 concurrent publishes, so in-flight publishes are bounded by a semaphore."""
    target = MqttTarget.from_url(mqtt_url)
    tcp_writer: asyncio.StreamWriter | None = None
    if hj212 is not None:
        _reader, tcp_writer = await asyncio.open_connection(*hj212)
    deadline = time.monotonic() + duration_s
    began = time.monotonic()
    async with aiomqtt.Client(
        target.host,
        target.port,
        username=target.username,
        password=target.password,
        protocol=aiomqtt.ProtocolVersion.V311,  # the embedded broker speaks 3.1.1 only
    ) as client:
        outlet = Outlet(client, root=root, tcp_writer=tcp_writer, max_in_flight=max_in_flight)
        sent = await _paced_rounds(
            plan, outlet, rate=rate, began=began, deadline=deadline, max_messages=max_messages
        )
        await outlet.drain()
    if tcp_writer is not None:
        await tcp_writer.drain()
        tcp_writer.close()
    return sent


async def _paced_rounds(
    plan: Plan,
    outlet: Outlet,
    *,
    rate: float,
    began: float,
    deadline: float,
    max_messages: int | None,
) -> int:
    """Send the plan's rounds at ``rate`` until the deadline or ``max_messages``; returns the count."""
    sent = 0
    for _step, batch in plan.rounds():
        for device, at, values in batch:
            if time.monotonic() >= deadline or (max_messages is not None and sent >= max_messages):
                deadline = 0.0
                break
            await outlet.send(device, values, at=at)
            sent += 1
            ahead = sent / rate - (time.monotonic() - began)
            if ahead > 0:
                await asyncio.sleep(ahead)
        if time.monotonic() >= deadline:
            break
    return sent


async def _devices_from_database(database_url: str, sites: int) -> list[DeviceInfo]:
    from tortoise import Tortoise  # noqa: PLC0415 - only the CLI needs the database

    from domain.alerts.readings import registered_devices  # noqa: PLC0415

    url = database_url.replace("postgres://", "asyncpg://", 1).replace("postgresql://", "asyncpg://", 1)
    await Tortoise.init(db_url=url, modules={"projects": ["domain.projects.models"]})
    try:
        devices = await registered_devices()
    finally:
        await Tortoise.close_connections()
    chosen = sorted({d.site_code for d in devices.values()})[:sites]
    return [d for d in devices.values() if d.site_code in chosen]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m iot_bridge.simulate", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--sites", type=int, default=5)
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second, all devices together")
    parser.add_argument("--scenario", choices=SCENARIOS, default="normal")
    parser.add_argument("--mqtt-url", default="")
    parser.add_argument("--hj212", default="", help="host:port: dust monitors send HJ 212 frames over TCP")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--root", default="wenling")
    parser.add_argument("--site-codes", default="")
    parser.add_argument("--backfill-minutes", type=float, default=0.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    from config.settings import load_settings  # noqa: PLC0415 - read the environment only when run

    settings = load_settings()
    mqtt_url = args.mqtt_url or settings.mqtt_url or f"mqtt://127.0.0.1:{settings.embedded_mqtt_port}"
    if args.site_codes:
        devices = demo_devices([c.strip() for c in args.site_codes.split(",") if c.strip()])
    else:
        devices = asyncio.run(_devices_from_database(settings.effective_database_url, args.sites))
    hj212 = None
    if args.hj212:
        host, _, port = args.hj212.rpartition(":")
        hj212 = (host or "127.0.0.1", int(port))
    plan = Plan(devices, args.scenario, backfill_minutes=args.backfill_minutes)
    sent = asyncio.run(
        publish_plan(
            plan, mqtt_url=mqtt_url, root=args.root, rate=args.rate, duration_s=args.duration, hj212=hj212
        )
    )
    print(json.dumps({"sent": sent, "devices": len(devices), "scenario": args.scenario}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
