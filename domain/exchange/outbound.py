"""The outbound city feed (城市大脑): domain events as a documented JSON envelope, fanned out to
webhook subscribers through an outbox (signed, retried with backoff) and to an MQTT topic.

The senders are ports: the HTTP client and the MQTT client live at the edge (miniprogram_api).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from tortoise.exceptions import IntegrityError

from domain.events import DomainEvent
from domain.exchange.models import WebhookDelivery, WebhookSubscription
from domain.exchange.rules import (
    ExchangeConfig,
    WebhookPolicy,
    new_sealed_reference,
    retry_delay_s,
    sign,
    unseal,
)

log = logging.getLogger(__name__)
SCHEMA = "wenling.city-feed/1"
BATCH = 50


class DeliveryFailed(Exception):
    """The subscriber did not take the delivery (network error, timeout or a non-2xx answer)."""


class WebhookSender(Protocol):
    async def post(self, url: str, body: bytes, headers: Mapping[str, str], *, timeout_s: float) -> None: ...


class TopicPublisher(Protocol):
    async def publish(self, topic: str, payload: bytes) -> None: ...


def envelope(event: DomainEvent, *, now: dt.datetime) -> dict[str, Any]:
    """The documented message (docs/city-feed.md): stable id, type, time, and the event's payload."""
    return {
        "schema": SCHEMA,
        "event_id": event.event_id,
        "type": event.name,
        "published_at": now.astimezone(dt.UTC).isoformat(),
        "data": dict(event.payload),
    }


def encode(message: Mapping[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def topic_for(config: ExchangeConfig, event_name: str) -> str:
    return f"{config.topic_prefix}/events/{event_name}"


async def subscribe(
    *, name: str, url: str, event_types: list[str], now: dt.datetime, master_key: bytes
) -> tuple[int, str]:
    """A new webhook subscription: (id, secret). The subscriber verifies each delivery with the secret,
    which is shown once and not stored (see ``rules.unseal``)."""
    reference = new_sealed_reference()
    row = await WebhookSubscription.create(
        name=name, url=url, secret=reference, event_types=event_types, created_at=now
    )
    return row.id, unseal(reference, master_key=master_key)


async def fan_out(event: DomainEvent, *, now: dt.datetime) -> int:
    """One outbox row per interested subscription; a redelivered event adds nothing (idempotent)."""
    body = encode(envelope(event, now=now)).decode()
    added = 0
    for subscription in await WebhookSubscription.filter(active=True):
        if subscription.event_types and event.name not in subscription.event_types:
            continue
        try:
            await WebhookDelivery.create(
                subscription_id=subscription.id,
                event_id=event.event_id,
                event_type=event.name,
                body=body,
                next_attempt_at=now,
                created_at=now,
            )
        except IntegrityError:
            continue
        added += 1
    return added


async def relay(
    event: DomainEvent, *, config: ExchangeConfig, publisher: TopicPublisher, now: dt.datetime
) -> int:
    """Queue the webhooks, then publish on MQTT. Webhooks first: they are durable and idempotent, so
    if MQTT is down the event stays pending, is retried, and no subscriber gets it twice."""
    if config.outbound_events and event.name not in config.outbound_events:
        return 0
    queued = await fan_out(event, now=now)
    await publisher.publish(topic_for(config, event.name), encode(envelope(event, now=now)))
    return queued


def signed_headers(secret: str, body: bytes, *, event_id: str, now: dt.datetime) -> dict[str, str]:
    timestamp = str(int(now.timestamp()))
    return {
        "Content-Type": "application/json",
        "X-Wl-Event-Id": event_id,
        "X-Wl-Timestamp": timestamp,
        "X-Wl-Signature": sign(secret, timestamp, body),
    }


async def deliver_due(
    sender: WebhookSender, *, policy: WebhookPolicy, now: dt.datetime, master_key: bytes
) -> int:
    """Try every due delivery once. Failures are rescheduled with backoff, then given up ("failed")."""
    due = await WebhookDelivery.filter(status="pending", next_attempt_at__lte=now).order_by("id").limit(BATCH)
    subscriptions = {
        s.id: s for s in await WebhookSubscription.filter(id__in=[d.subscription_id for d in due])
    }
    delivered = 0
    for delivery in due:
        subscription = subscriptions.get(delivery.subscription_id)
        if subscription is None or not subscription.active:
            await WebhookDelivery.filter(id=delivery.id).update(status="cancelled")
            continue
        body = delivery.body.encode()
        secret = unseal(subscription.secret, master_key=master_key)
        headers = signed_headers(secret, body, event_id=delivery.event_id, now=now)
        try:
            await sender.post(subscription.url, body, headers, timeout_s=policy.timeout_s)
        except DeliveryFailed as error:
            attempts = delivery.attempts + 1
            gave_up = attempts >= policy.max_attempts
            await WebhookDelivery.filter(id=delivery.id).update(
                attempts=attempts,
                status="failed" if gave_up else "pending",
                next_attempt_at=now + dt.timedelta(seconds=retry_delay_s(attempts, policy)),
                last_error=str(error)[:300],
            )
            log.warning(
                "webhook %s to subscription %s failed (try %s): %s",
                delivery.event_id,
                subscription.id,
                attempts,
                error,
            )
            continue
        await WebhookDelivery.filter(id=delivery.id).update(
            status="delivered", attempts=delivery.attempts + 1, delivered_at=now, last_error=""
        )
        delivered += 1
    return delivered
