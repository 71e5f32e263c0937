"""Composition of the bridge: pipeline + MQTT + HJ 212 server + periodic jobs (device registry
refresh, offline check, escalation, retention). ``run_bridge(runtime)`` is the worker entry that
``config.workers`` starts in embedded mode; production runs it in its own processes."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiomqtt

from adapters.infrastructure import Infrastructure
from config.settings import Settings
from domain import policies
from domain.alerts import notify, partitions
from domain.alerts import readings as readings_service
from domain.alerts.engine import RuleEngine
from domain.alerts.readings import DeviceInfo
from domain.alerts.sensor_rules import RuleConfig
from domain.iot import services as iot_records
from domain.projects import services as projects
from iot_bridge.downlink import run_downlink
from iot_bridge.embedded_broker import EmbeddedBroker
from iot_bridge.intake import Hj212Intake
from iot_bridge.mqtt import MqttIngest, MqttTarget
from iot_bridge.permits import night_permit_bulk_lookup, night_permit_lookup
from iot_bridge.pipeline import AlarmHook, Pipeline
from iot_bridge.storage import RawSink, RingRawSink, StreamRawSink
from iot_bridge.tcp import Hj212Server, ListenerLimits

log = logging.getLogger(__name__)
RETENTION = dt.timedelta(days=90)
STATS_EVERY_S = 10.0
STATS_KEY = "iot:bridge-stats:"


@dataclass
class BridgeOptions:
    mqtt_url: str | None
    mqtt_protocol: aiomqtt.ProtocolVersion = aiomqtt.ProtocolVersion.V5
    topic_root: str = "wenling"
    shared_group: str = ""
    client_id: str = ""
    hj212_host: str = "127.0.0.1"
    hj212_port: int | None = 9212
    hj212_limits: ListenerLimits = field(default_factory=ListenerLimits)
    raw_frame_retention: dt.timedelta = dt.timedelta(days=30)
    rules: RuleConfig | None = None  # None: the deployed config/alert_rules.yml
    escalation_after: dt.timedelta = dt.timedelta(minutes=15)
    duty_openids: list[str] = field(default_factory=list)
    offline_check_s: float = 30.0
    escalation_check_s: float = 60.0
    registry_refresh_s: float = 60.0
    flush_interval_s: float = 1.0
    on_alarm: AlarmHook | None = None


class Bridge:
    def __init__(
        self, infra: Infrastructure, options: BridgeOptions, *, raw_sink: RawSink | None = None
    ) -> None:
        self.options = options
        self._cache, self._bus = infra.cache, infra.bus
        self.devices: dict[str, DeviceInfo] = {}
        self.passwords: dict[str, str] = {}
        sink = raw_sink or (StreamRawSink(infra.bus) if infra.redis_backed else RingRawSink())
        self.pipeline = Pipeline(
            engine=RuleEngine(options.rules or policies.current().alert_rules),
            bus=infra.bus,
            cache=infra.cache,
            raw_sink=sink,
            permit_lookup=night_permit_lookup,
            permit_bulk_lookup=night_permit_bulk_lookup,
            on_alarm=options.on_alarm,
        )
        self.intake = Hj212Intake(
            self.pipeline, devices=lambda: self.devices, passwords=lambda: self.passwords
        )
        self.mqtt: MqttIngest | None = None
        if options.mqtt_url:
            self.mqtt = MqttIngest(
                self.pipeline,
                target=MqttTarget.from_url(options.mqtt_url),
                devices=lambda: self.devices,
                intake=self.intake,
                root=options.topic_root,
                shared_group=options.shared_group,
                client_id=options.client_id,
                protocol=options.mqtt_protocol,
            )
        self.hj212 = Hj212Server(
            self.pipeline, devices=lambda: self.devices, sink=self.intake.accept, limits=options.hj212_limits
        )
        self.ready = asyncio.Event()

    @property
    def name(self) -> str:
        """This process among the bridges: its MQTT client id, or a per-process one without MQTT."""
        return self.mqtt.client_id if self.mqtt is not None else f"local-{os.getpid()}"

    async def refresh_devices(self) -> None:
        """The registry, then the pipeline warmed for it: the rule state of devices new to this
        process and today's night permits of all noise sites in one query (refreshed with the
        registry, so the permit cache seldom expires site by site)."""
        self.devices = await readings_service.registered_devices()
        self.passwords = await projects.device_passwords()
        await self.pipeline.warm(self.devices, now=dt.datetime.now(dt.UTC))

    async def run(self) -> None:
        await self.refresh_devices()
        await self._retention()  # this month's partition exists before the first insert
        if self.options.hj212_port is not None:
            await self.hj212.start(self.options.hj212_host, self.options.hj212_port)
            log.info("HJ 212 listening on %s:%s", self.options.hj212_host, self.hj212.port)
        jobs = asyncio.create_task(self._run_jobs())
        try:
            # ``wait`` (not ``await jobs``): a cancel of ``run`` must not reach the jobs before the
            # graceful stop below has stored and acknowledged what was taken in.
            await asyncio.wait({jobs})
            jobs.result()
        except asyncio.CancelledError:
            await self.stop_gracefully()
            raise
        finally:
            jobs.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(jobs, 10)
            await self.hj212.close()

    async def _run_jobs(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self.pipeline.run_alarm_workers())
            group.create_task(self.pipeline.run_flusher(interval_s=self.options.flush_interval_s))
            if self.mqtt is not None:
                group.create_task(self.mqtt.run())
            group.create_task(self._every(self.options.registry_refresh_s, self.refresh_devices))
            group.create_task(self._every(self.options.offline_check_s, self.check_offline))
            group.create_task(self._every(self.options.escalation_check_s, self.escalate))
            group.create_task(self._every(3600.0, self._retention))
            group.create_task(self._every(STATS_EVERY_S, self.publish_stats))
            if self.options.hj212_port is not None:
                group.create_task(run_downlink(self._bus, self.hj212, group=f"bridge-{self.name}"))
            self.ready.set()

    async def stop_gracefully(self, *, timeout_s: float = 10.0) -> None:
        """SIGTERM: stop taking readings, store what was taken and acknowledge it (the connections
        are still up), and apply the alarm changes already decided; each step bounded in time."""
        await self.hj212.stop_reading()
        if self.mqtt is not None:
            await self.mqtt.stop_consuming()
        await self.pipeline.final_flush(timeout_s=timeout_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.pipeline.drain(), timeout_s)

    async def _every(self, interval_s: float, job: Callable[[], Awaitable[Any]]) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await job()
            except Exception:
                # A periodic job that fails (database hiccup) runs again next time; it is logged.
                log.exception("bridge job %s failed", getattr(job, "__name__", job))

    async def publish_stats(self) -> None:
        """Counters and drops of this process in the cache, for operators and health checks."""
        name = self.name
        body = {
            "at": dt.datetime.now(dt.UTC).isoformat(),
            "stats": dict(self.pipeline.stats),
            "drops": self.pipeline.drops(),
            "hj212_connections": self.hj212.connection_count,
        }
        await self._cache.set(STATS_KEY + name, json.dumps(body), STATS_EVERY_S * 6)

    async def check_offline(self, *, now: dt.datetime | None = None) -> None:
        """The device life cycle at ``now`` (the wall clock unless a simulated clock drives it)."""
        await self.pipeline.check_offline(self.devices, now=now or dt.datetime.now(dt.UTC))

    async def escalate(self, *, now: dt.datetime | None = None) -> None:
        """Unacknowledged major alarms to the duty roster, judged at ``now`` (wall clock by default)."""
        duty = await notify.duty_openids(self.options.duty_openids)
        await notify.escalate_due(
            now=now or dt.datetime.now(dt.UTC), after=self.options.escalation_after, duty_openids=duty
        )

    async def _retention(self) -> None:
        """Monthly partitions ahead and expired months dropped (PostgreSQL), then a row purge for what
        is left (the DEFAULT partition, or the plain table on SQLite)."""
        now = dt.datetime.now(dt.UTC)
        await partitions.maintain_partitions(today=now.date(), retention=RETENTION)
        deleted = await readings_service.purge_aggregates(older_than=now - RETENTION)
        if deleted:
            log.info("retention: %d minute aggregates removed", deleted)
        frames = await iot_records.purge(today=now.date(), retention=self.options.raw_frame_retention)
        if frames:
            log.info("retention: %d raw frames removed", frames)


def options_from(settings: Settings, *, mqtt_url: str | None) -> BridgeOptions:
    return BridgeOptions(
        mqtt_url=mqtt_url,
        shared_group=settings.iot_shared_group,
        client_id=settings.iot_client_id,
        hj212_port=settings.iot_hj212_port or None,
        hj212_host=settings.iot_hj212_host or settings.host,
        hj212_limits=ListenerLimits(
            max_connections=settings.iot_hj212_max_connections,
            max_per_source=settings.iot_hj212_max_per_source,
            first_frame_timeout_s=settings.iot_hj212_first_frame_timeout_s,
        ),
        raw_frame_retention=dt.timedelta(days=settings.iot_raw_frame_retention_days),
        escalation_after=dt.timedelta(minutes=settings.alert_escalation_minutes),
        duty_openids=list(settings.admin_alert_openids),
    )


async def run_bridge(runtime: Any) -> None:
    """Worker entry: ``runtime`` is ``config.container.Runtime``. Without MQTT_URL an embedded broker
    (amqtt, MQTT 3.1.1) is started on ``settings.embedded_mqtt_port``."""
    settings: Settings = runtime.settings
    async with contextlib.AsyncExitStack() as stack:
        mqtt_url = settings.mqtt_url
        options = options_from(settings, mqtt_url=mqtt_url)
        if not mqtt_url:
            broker = EmbeddedBroker(port=settings.embedded_mqtt_port)
            await broker.start()
            stack.push_async_callback(broker.stop)
            options.mqtt_url = f"mqtt://127.0.0.1:{settings.embedded_mqtt_port}"
            options.mqtt_protocol = aiomqtt.ProtocolVersion.V311
            options.shared_group = ""  # the embedded broker has no shared subscriptions
        await Bridge(runtime.infra, options).run()
