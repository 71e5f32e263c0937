"""Composition root: builds the ports from settings (in-process or Redis) and checks readiness."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tortoise import Tortoise, connections
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import get_current_context

from adapters import memory, redis_ports
from adapters.config_files import load_policies
from adapters.infrastructure import Infrastructure
from adapters.media_store import LocalMediaStore
from adapters.s3_media import S3Options, open_s3_media
from adapters.wechat.client import WeChatClient, client_from_settings
from config.database import tortoise_config
from config.settings import Settings
from domain import policies
from domain.approvals.services import ApprovalsEnv
from domain.policies import Policies
from domain.ports import EventBus, MediaStore

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """What a process holds open: the ports, the services built on them once, and how to close them.

    Entry points take what they need from here; nothing else builds a WeChat client or an
    approvals environment."""

    settings: Settings
    infra: Infrastructure
    media: MediaStore
    policies: Policies
    approvals: ApprovalsEnv
    wechat: WeChatClient
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def close(self) -> None:
        for close in reversed(self.closers):
            await close()
        self.closers.clear()


def build_infrastructure(settings: Settings) -> tuple[Infrastructure, list[Callable[[], Awaitable[None]]]]:
    if settings.redis_url:
        client = redis_ports.connect(settings.redis_url)
        prefix = settings.redis_key_prefix
        infra = Infrastructure(
            bus=redis_ports.RedisEventBus(client, prefix),
            dedup=redis_ports.RedisDedupStore(client, prefix),
            lock=redis_ports.RedisLock(client, prefix),
            cache=redis_ports.RedisCache(client, prefix),
            geo=redis_ports.RedisGeoIndex(client, prefix),
            redis_backed=True,
        )
        return infra, [client.aclose]
    infra = Infrastructure(
        bus=memory.MemoryEventBus(),
        dedup=memory.MemoryDedupStore(),
        lock=memory.MemoryLock(),
        cache=memory.MemoryCache(),
        geo=memory.MemoryGeoIndex(),
        redis_backed=False,
    )
    return infra, []


async def init_tortoise(database_url: str) -> None:
    """Initialise Tortoise as the process-wide default.

    Tortoise 1.x keeps its state in a context variable; the global fallback makes it visible to the
    tasks Sanic creates per connection, which do not inherit the listener's context. Any earlier
    state is closed first, because only one global context may exist.
    """
    if get_current_context() is not None:
        await close_database()
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def install_policies() -> Policies:
    """Reads ``config/*.yml`` once (off the loop) and hands it to the domain, which reads no files."""
    deployed = await asyncio.to_thread(load_policies)
    policies.install(deployed)
    return deployed


async def open_database(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await install_policies()
    await init_tortoise(settings.effective_database_url)


def build_approvals_env(
    deployed: Policies, *, media: MediaStore, bus: EventBus, max_file_bytes: int
) -> ApprovalsEnv:
    """The one way an approvals environment is made (API, bot, reminders and the demo seed)."""
    return ApprovalsEnv(
        catalogue=deployed.approvals,
        calendar=deployed.calendar,
        media=media,
        bus=bus,
        max_file_bytes=max_file_bytes,
    )


async def close_database() -> None:
    await Tortoise.close_connections()
    # Forget the models' bound connections too, so a later init in this process may use another
    # backend (the tests run SQLite and PostgreSQL one after the other).
    # Tortoise caches insert statements per connection *name*, not per backend, so drop that too.
    await Tortoise._reset_apps()
    EXECUTOR_CACHE.clear()


async def open_media(settings: Settings) -> tuple[MediaStore, Callable[[], Awaitable[None]] | None]:
    """The object store when configured (production), else the local disk; and how to close it."""
    if not settings.media_s3_endpoint:
        return LocalMediaStore(settings.data_dir / "media"), None
    options = S3Options(
        endpoint=settings.media_s3_endpoint,
        bucket=settings.media_s3_bucket,
        access_key=settings.media_s3_access_key.get_secret_value(),
        secret_key=settings.media_s3_secret_key.get_secret_value(),
        region=settings.media_s3_region,
        prefix=settings.media_s3_prefix,
    )
    stack = contextlib.AsyncExitStack()
    try:
        store = await open_s3_media(options, stack)
    except BaseException:
        await stack.aclose()
        raise
    return store, stack.aclose


async def open_runtime(settings: Settings) -> Runtime:
    await open_database(settings)
    deployed = policies.current()
    infra, closers = build_infrastructure(settings)
    media, close_media = await open_media(settings)
    if close_media is not None:
        closers.append(close_media)
    return Runtime(
        settings=settings,
        infra=infra,
        media=media,
        policies=deployed,
        approvals=build_approvals_env(
            deployed, media=media, bus=infra.bus, max_file_bytes=settings.media_max_bytes
        ),
        # Access tokens live in the cache port and are refreshed under its lock, so one client per
        # process is shared by the webhook, the mini-program login and the outbox dispatcher.
        wechat=client_from_settings(settings, cache=infra.cache, lock=infra.lock),
        closers=[*closers, close_database],
    )


async def _check_database() -> None:
    await connections.get("default").execute_query("SELECT 1")


async def _check_redis(url: str) -> None:
    client = redis_ports.connect(url)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def _check_mqtt(url: str) -> None:
    parts = urlsplit(url)
    _reader, writer = await asyncio.open_connection(parts.hostname or "127.0.0.1", parts.port or 1883)
    writer.close()
    await writer.wait_closed()


async def readiness(settings: Settings, *, timeout_s: float = 2.0) -> dict[str, str]:
    """Each configured dependency answers 'ok' or the error's class name (never its secrets)."""
    checks: dict[str, Callable[[], Awaitable[None]]] = {"database": _check_database}
    if settings.redis_url:
        redis_url = settings.redis_url
        checks["redis"] = lambda: _check_redis(redis_url)
    if settings.mqtt_url:
        mqtt_url = settings.mqtt_url
        checks["mqtt"] = lambda: _check_mqtt(mqtt_url)
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            async with asyncio.timeout(timeout_s):
                await check()
            results[name] = "ok"
        except Exception as error:
            log.warning("readiness check %s failed: %s", name, type(error).__name__)
            results[name] = type(error).__name__
    return results
