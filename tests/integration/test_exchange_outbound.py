"""The outbound city feed: signed webhooks retried through the outbox, the MQTT topic on the real
Mosquitto, relaying from the event bus, and GeoJSON layers."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import os
import uuid
from collections.abc import AsyncIterator

import aiomqtt
import httpx
import pytest

from adapters.memory import MemoryEventBus
from domain.events import DomainEvent, publish, stream_of
from domain.exchange import geo
from domain.exchange.models import WebhookDelivery, WebhookSubscription
from domain.exchange.outbound import SCHEMA, deliver_due, fan_out, subscribe
from domain.exchange.rules import WebhookPolicy, sign
from domain.exchange.services import exchange_config
from miniprogram_api.exchange_outbound import CONSUMER_GROUP, HttpxSender, MqttPublisher, relay_once
from tests.integration.reports_seed import seed_alarms, seed_complaints, seed_projects

KEY = b"test-secret-key-for-sealing-0123456789"
NOW = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
EVENT = DomainEvent(
    "AlarmRaised", {"alarm_id": 7, "site_code": "WL-2026-0001-S1", "severity": "major"}, event_id="ev-1"
)


class Receiver:
    """A tiny HTTP endpoint that fails the first ``failures`` requests with 503, then answers 204."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> Receiver:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hook"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:] if ": " in line)
        headers = {k.lower(): v for k, v in headers.items()}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append((headers, body))
        status = "503 Busy" if len(self.requests) <= self.failures else "204 No Content"
        writer.write(f"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        writer.close()


async def test_webhook_is_signed_and_retried_with_backoff(database: str) -> None:
    policy = WebhookPolicy(max_attempts=5, first_retry_s=10, max_retry_s=3600, timeout_s=2)
    async with Receiver(failures=2) as receiver, httpx.AsyncClient() as client:
        subscription_id, secret = await subscribe(
            name="city-brain", url=receiver.url, event_types=[], now=NOW, master_key=KEY
        )
        assert await fan_out(EVENT, now=NOW) == 1
        assert await fan_out(EVENT, now=NOW) == 0  # a redelivered event is queued once
        sender = HttpxSender(client)
        assert await deliver_due(sender, policy=policy, now=NOW, master_key=KEY) == 0
        row = await WebhookDelivery.get(subscription_id=subscription_id)
        assert (row.attempts, row.status, row.next_attempt_at) == (
            1,
            "pending",
            NOW + dt.timedelta(seconds=10),
        )
        assert (
            await deliver_due(sender, policy=policy, now=NOW + dt.timedelta(seconds=5), master_key=KEY) == 0
        )  # not due yet
        assert (
            await deliver_due(sender, policy=policy, now=NOW + dt.timedelta(seconds=10), master_key=KEY) == 0
        )
        row = await WebhookDelivery.get(subscription_id=subscription_id)
        assert row.next_attempt_at == NOW + dt.timedelta(seconds=30)  # 10 s, then 20 s
        assert (
            await deliver_due(sender, policy=policy, now=NOW + dt.timedelta(seconds=30), master_key=KEY) == 1
        )
    row = await WebhookDelivery.get(subscription_id=subscription_id)
    assert (row.status, row.attempts) == ("delivered", 3)
    headers, body = receiver.requests[-1]
    assert headers["x-wl-signature"] == sign(secret, headers["x-wl-timestamp"], body)
    stored = await WebhookSubscription.get(id=subscription_id)
    assert secret not in stored.secret, "the database keeps a reference, not the secret"
    message = json.loads(body)
    assert message["schema"] == SCHEMA and message["event_id"] == "ev-1" and message["data"]["alarm_id"] == 7


async def test_webhook_gives_up_after_max_attempts(database: str) -> None:
    policy = WebhookPolicy(max_attempts=2, first_retry_s=1, max_retry_s=5, timeout_s=2)
    async with Receiver(failures=99) as receiver, httpx.AsyncClient() as client:
        await subscribe(name="x", url=receiver.url, event_types=["AlarmRaised"], now=NOW, master_key=KEY)
        await subscribe(name="y", url=receiver.url, event_types=["ComplaintUpheld"], now=NOW, master_key=KEY)
        assert await fan_out(EVENT, now=NOW) == 1  # only the subscriber of this type
        for seconds in (0, 1, 100):
            await deliver_due(
                HttpxSender(client), policy=policy, now=NOW + dt.timedelta(seconds=seconds), master_key=KEY
            )
    assert len(receiver.requests) == 2
    assert await WebhookDelivery.filter(status="failed").count() == 1


@pytest.fixture
def mqtt_url() -> str:
    url = os.environ.get("MQTT_URL")
    if not url:
        pytest.skip("MQTT_URL is not set: Mosquitto integration run skipped")
    return url


async def test_events_are_relayed_to_mqtt_and_webhooks(database: str, mqtt_url: str) -> None:
    prefix = f"test-reports/{uuid.uuid4().hex[:8]}/city"
    config = dataclasses.replace(exchange_config(), topic_prefix=prefix)
    bus = MemoryEventBus()
    for name in config.outbound_events:
        await bus.ensure_group(stream_of(name), CONSUMER_GROUP)
    await subscribe(name="brain", url="http://127.0.0.1:9/hook", event_types=[], now=NOW, master_key=KEY)
    host = mqtt_url.split("://", 1)[1].split(":", maxsplit=1)[0]
    port = int(mqtt_url.rsplit(":", 1)[1]) if mqtt_url.count(":") == 2 else 1883
    async with aiomqtt.Client(host, port, identifier=f"t-{uuid.uuid4().hex[:8]}") as listener:
        await listener.subscribe(f"{prefix}/events/#", qos=1)
        await publish(bus, EVENT)
        await publish(bus, DomainEvent("SomethingInternal", {"x": 1}))  # not in the outbound list
        publisher = MqttPublisher(mqtt_url, client_id=f"pub-{uuid.uuid4().hex[:8]}")
        assert await relay_once(bus, consumer="c1", config=config, publisher=publisher) == 1
        message = await asyncio.wait_for(anext(aiter(listener.messages)), timeout=10)
    assert str(message.topic) == f"{prefix}/events/AlarmRaised"
    payload = json.loads(bytes(message.payload))
    assert payload["type"] == "AlarmRaised" and payload["event_id"] == "ev-1" and payload["schema"] == SCHEMA
    assert await WebhookDelivery.filter(event_id="ev-1").count() == 1
    assert await relay_once(bus, consumer="c1", config=config, publisher=publisher) == 0  # acknowledged


@pytest.fixture
async def seeded(database: str) -> AsyncIterator[None]:
    await seed_projects()
    await seed_alarms()
    await seed_complaints()
    yield


async def test_geojson_layers(seeded: None) -> None:
    projects = await geo.layer("projects")
    assert projects["type"] == "FeatureCollection" and len(projects["features"]) == 4
    lng, lat = projects["features"][0]["geometry"]["coordinates"]
    assert 120 < lng < 122 and 28 < lat < 29  # GeoJSON order: longitude first
    assert len((await geo.layer("sites"))["features"]) == 3
    alarms = await geo.layer("active_alarms")
    assert {f["properties"]["alarm_id"] for f in alarms["features"]} == {1, 2, 5}  # acknowledged ones
    complaints = await geo.layer("open_complaints")
    assert complaints["features"] == []  # the seeded tickets carry no coordinates
    with pytest.raises(Exception, match="no layer"):
        await geo.layer("people")


async def test_open_complaints_layer_hides_people(database: str) -> None:
    from domain.complaints.models import Complaint  # noqa: PLC0415

    await Complaint.create(
        ticket_no="T1",
        nuisance_type="noise",
        category="complaint",
        town="城东街道",
        lat=28.371234,
        lng=121.381234,
        reporter_openid="oSecret",
        reporter_phone="13900000000",
        reporter_name="张三",
        address="某小区5栋",
        sla_started_at=NOW,
        due_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )
    layer = await geo.layer("open_complaints")
    text = json.dumps(layer, ensure_ascii=False)
    assert "oSecret" not in text and "13900000000" not in text and "张三" not in text and "某小区" not in text
    assert layer["features"][0]["geometry"]["coordinates"] == [121.381, 28.371]
