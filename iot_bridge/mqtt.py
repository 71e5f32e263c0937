"""MQTT front end (aiomqtt 2.x, MQTT v5, QoS 1): topic routing, decoding, and a reconnect loop.

aiomqtt 2.x does not reconnect by itself, so ``run`` wraps the connection in a loop with capped
exponential backoff and subscribes again on every connect. A persistent session (clean_start off,
session expiry set) lets the broker keep QoS 1 messages for us while we are away.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tortoise.exceptions import DBConnectionError

from domain.alerts.readings import DeviceInfo
from domain.alerts.telemetry import Reading
from iot_bridge.hj212 import FrameError, decode_frame
from iot_bridge.intake import Hj212Intake
from iot_bridge.normalise import DecodeError, decode_json
from iot_bridge.pipeline import Pipeline

log = logging.getLogger(__name__)
# paho logs every packet at DEBUG through this logger: at thousands of messages a second the calls
# alone cost more than the rules, so only warnings and errors pass unless configured otherwise.
PAHO_LOG = logging.getLogger(f"{__name__}.paho")
if PAHO_LOG.level == logging.NOTSET:
    PAHO_LOG.setLevel(logging.WARNING)
SESSION_EXPIRY_S = 3600
# Redis or the database unreachable: the reading waits for them instead of being dropped.
OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError, DBConnectionError, OSError, TimeoutError)
OUTAGE_RETRY_FIRST_S = 0.2
OUTAGE_RETRY_MAX_S = 5.0
# MQTT v5 Receive Maximum: how many unacknowledged QoS 1 messages the broker may send us. Messages are
# acknowledged only after the flush that stores them (up to a second later), so the window must hold
# a second of the city's stream; Mosquitto's default for a client that does not ask is 20.
RECEIVE_MAXIMUM = 20_000
BACKOFF_START_S = 0.5
BACKOFF_CAP_S = 30.0


@dataclass(frozen=True, slots=True)
class MqttTarget:
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> MqttTarget:
        parts = urlsplit(url)
        return cls(parts.hostname or "127.0.0.1", parts.port or 1883, parts.username, parts.password)


def subscriptions(root: str, shared_group: str) -> list[str]:
    """``{root}/{site}/{type}/{device}/telemetry`` and ``.../hj212``, shared when a group is set."""
    topics = [f"{root}/+/+/+/telemetry", f"{root}/+/+/+/hj212"]
    return [f"$share/{shared_group}/{t}" for t in topics] if shared_group else topics


class MqttIngest:
    def __init__(
        self,
        pipeline: Pipeline,
        *,
        target: MqttTarget,
        devices: Callable[[], dict[str, DeviceInfo]],
        intake: Hj212Intake | None = None,
        root: str = "wenling",
        shared_group: str = "",
        client_id: str = "",
        protocol: aiomqtt.ProtocolVersion = aiomqtt.ProtocolVersion.V5,
    ) -> None:
        self._protocol = protocol
        self._pipeline = pipeline
        self._target = target
        self._devices = devices
        self._intake = intake or Hj212Intake(pipeline, devices=devices, passwords=dict)
        self._root = root
        self._shared_group = shared_group
        self.client_id = client_id or f"wl-bridge-{random.getrandbits(40):x}"
        self.connected = asyncio.Event()
        self.connections = 0
        self.client: aiomqtt.Client | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._stopping = False

    async def run(self) -> None:
        backoff = BACKOFF_START_S
        while not self._stopping:
            try:
                await self._session()
            except aiomqtt.MqttError as error:
                self.connected.clear()
                self._pipeline.stats["mqtt_disconnects"] += 1
                log.warning("MQTT connection lost (%s): reconnecting in %.1f s", error, backoff)
                await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
                backoff = min(BACKOFF_CAP_S, backoff * 2)
            else:
                backoff = BACKOFF_START_S

    async def _session(self) -> None:
        if self._protocol is aiomqtt.ProtocolVersion.V5:
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = SESSION_EXPIRY_S
            properties.ReceiveMaximum = RECEIVE_MAXIMUM
            session: dict[str, Any] = {"clean_start": False, "properties": properties}
        else:
            session = {"clean_session": False}
        client = aiomqtt.Client(
            self._target.host,
            self._target.port,
            username=self._target.username,
            password=self._target.password,
            identifier=self.client_id,
            protocol=self._protocol,
            keepalive=30,
            logger=PAHO_LOG,
            **session,
        )
        # paho acknowledges a QoS 1 message as soon as aiomqtt queues it. When the connection drops,
        # aiomqtt discards its queue, so everything queued but not yet handled would be lost although
        # the broker counts it as delivered. The PUBACK goes out only once the pipeline has stored
        # the reading (``after_durable``): what the broker counts as delivered survives a SIGKILL.
        client._client.manual_ack_set(True)  # aiomqtt exposes no manual-ack switch
        async with client:
            self.client = client
            for topic in subscriptions(self._root, self._shared_group):
                await client.subscribe(topic, qos=1)
            self.connections += 1
            self.connected.set()
            log.info("MQTT connected to %s:%s (%d subscriptions)", self._target.host, self._target.port, 2)
            if self._stopping:
                await asyncio.Event().wait()
            consumer = asyncio.create_task(self._consume(client, self.connections))
            self._consumer = consumer
            try:
                await asyncio.wait({consumer})
            finally:
                consumer.cancel()
            if not consumer.cancelled():
                consumer.result()  # the connection was lost: MqttError, and the loop reconnects
            # ``stop_consuming`` (a graceful stop): the connection stays up until this task is
            # cancelled, so the final flush can still acknowledge what it stores.
            await asyncio.Event().wait()

    async def stop_consuming(self) -> None:
        """Take no more messages; what was taken stays unacknowledged until the pipeline flushes."""
        self._stopping = True
        consumer = self._consumer
        if consumer is not None:
            consumer.cancel()
            # ``wait`` never raises: a consumer slow to end must not skip the final flush after it.
            await asyncio.wait({consumer}, timeout=5)

    async def _consume(self, client: aiomqtt.Client, connection: int) -> None:
        async for message in client.messages:
            await self._handle_until_taken(str(message.topic), message.payload)
            if message.qos > 0:
                self._pipeline.after_durable(functools.partial(self._ack, client, connection, message.mid))

    async def _handle_until_taken(self, topic: str, payload: object) -> None:
        """Handles one message; while Redis or the database is unreachable, waits and tries again.

        The message is acknowledged after this returns, so giving up on an outage would lose a
        reading the broker counts as delivered (the fault soak lost five during a one-second Redis
        restart). Holding the stream is right instead: the broker keeps what follows, and a stop
        cancels this wait, leaving the message unacknowledged for the successor. Any other error is
        the message's own (it can never succeed): logged, counted and acknowledged, so it cannot
        stall the stream.
        """
        delay = OUTAGE_RETRY_FIRST_S
        while True:
            try:
                await self.handle(topic, payload)
                return
            except OUTAGE_ERRORS as error:
                self._pipeline.stats["outage_retries"] += 1
                log.warning(
                    "storage unreachable (%s); retrying %s in %.1f s",
                    type(error).__name__,
                    topic[:120],
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, OUTAGE_RETRY_MAX_S)
            except Exception:
                self._pipeline.stats["handle_errors"] += 1
                log.exception("handling a message on %s failed", topic[:120])
                return

    def _ack(self, client: aiomqtt.Client, connection: int, mid: int) -> None:
        """PUBACK, on the connection the message came on only: after a reconnect, message ids are
        reused, and the broker delivers the unacknowledged messages again anyway."""
        if self.client is client and self.connections == connection and self.connected.is_set():
            client._client.ack(mid, 1)
        else:
            self._pipeline.stats["acks_skipped_reconnect"] += 1

    async def handle(self, topic: str, payload: object) -> None:
        stats = self._pipeline.stats
        stats["mqtt_messages"] += 1
        parts = topic.split("/")
        if (
            len(parts) != 5
            or parts[4] not in ("telemetry", "hj212")
            or not isinstance(payload, bytes | bytearray)
        ):
            stats["rejected_topic"] += 1
            return
        _root, site_code, device_type, device_id, kind = parts
        now = dt.datetime.now(dt.UTC)
        device = self._devices().get(device_id)
        if device is None or device.site_code != site_code or device.device_type != device_type:
            self._pipeline.note_unknown(
                device_id, reason="unknown_device" if device is None else "topic_mismatch", at=now
            )
            return
        reading: Reading | None
        try:
            if kind == "telemetry":
                reading = decode_json(bytes(payload), device=device, received_at=now)
            else:
                packet = decode_frame(bytes(payload))
                if packet.mn != device.code:
                    self._pipeline.note_unknown(packet.mn, reason="mn_mismatch", at=now)
                    return
                await self._intake.accept(packet, source="mqtt")
                return
        except (DecodeError, FrameError) as error:
            stats[f"rejected_{error.reason}"] += 1
            return
        if reading is not None:
            await self._pipeline.submit(reading)
