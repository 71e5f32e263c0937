"""The city-feed worker: relays domain events to MQTT and to webhook subscribers (outbox + retries).

The HTTP client (httpx) and the MQTT client (aiomqtt) live here, at the edge; the domain decides
what is sent, when and how it is signed (``domain.exchange.outbound``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiomqtt
import httpx

from config.settings import Settings
from domain.events import DomainEvent, consume_once, stream_of
from domain.exchange.outbound import DeliveryFailed, deliver_due, relay
from domain.exchange.rules import ExchangeConfig
from domain.exchange.services import exchange_config
from domain.ports import EventBus

log = logging.getLogger(__name__)
CONSUMER_GROUP = "city-feed"
DELIVERY_INTERVAL_S = 2.0


class HttpxSender:
    """POSTs a signed body; anything but a 2xx answer is a failed try."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], *, timeout_s: float) -> None:
        try:
            response = await self._client.post(url, content=body, headers=dict(headers), timeout=timeout_s)
        except httpx.HTTPError as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from error
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"HTTP {response.status_code}")


class MqttPublisher:
    """Publishes with QoS 1 on one connection per relay pass (the feed is low-volume)."""

    def __init__(self, url: str, *, client_id: str) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 1883
        self._username, self._password = parts.username, parts.password
        self._client_id = client_id

    async def publish(self, topic: str, payload: bytes) -> None:
        async with aiomqtt.Client(
            self._host,
            self._port,
            username=self._username,
            password=self._password,
            identifier=self._client_id,
            timeout=10,
        ) as client:
            await client.publish(topic, payload, qos=1)


def mqtt_url(settings: Settings) -> str:
    return settings.mqtt_url or f"mqtt://127.0.0.1:{settings.embedded_mqtt_port}"


async def relay_once(
    bus: EventBus, *, consumer: str, config: ExchangeConfig, publisher: Any, block_ms: int = 0
) -> int:
    async def handle(event: DomainEvent) -> None:
        await relay(event, config=config, publisher=publisher, now=dt.datetime.now(dt.UTC))

    return await consume_once(
        bus,
        group=CONSUMER_GROUP,
        consumer=consumer,
        event_names=config.outbound_events,
        handle=handle,
        block_ms=block_ms,
    )


class _Runtime(Protocol):
    settings: Settings

    @property
    def infra(self) -> Any: ...


async def run_city_feed(runtime: _Runtime) -> None:
    """Relay events and deliver webhooks until cancelled."""
    config = exchange_config()
    consumer = f"{socket.gethostname()}-{os.getpid()}"
    publisher = MqttPublisher(mqtt_url(runtime.settings), client_id=f"city-feed-{consumer}")
    bus: EventBus = runtime.infra.bus
    for name in config.outbound_events:
        await bus.ensure_group(stream_of(name), CONSUMER_GROUP)
    async with httpx.AsyncClient() as client:
        sender = HttpxSender(client)
        while True:
            try:
                await relay_once(bus, consumer=consumer, config=config, publisher=publisher)
                await deliver_due(
                    sender,
                    policy=config.webhook,
                    now=dt.datetime.now(dt.UTC),
                    master_key=runtime.settings.secret_key.get_secret_value().encode(),
                )
            except Exception:
                # Events stay pending in the stream and are claimed again: nothing is lost.
                log.exception("city feed pass failed; retrying")
            await asyncio.sleep(DELIVERY_INTERVAL_S)
