"""Redis implementations of the ports (redis-py's asyncio client), for production and scale-out.

Every key is prefixed (``prefix``) so one Redis can serve several deployments or test runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from domain.ports import BusMessage, GeoHit

# Compare-and-act scripts: only the lease's owner may extend or drop it, atomically.
_REFRESH_IF_OWNER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE_IF_OWNER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


# A Redis restart or failover takes about a second. Each command rides it out (about 3.5 s of
# backoff in all) instead of failing the request or the worker step in flight; the fault soak saw
# WeChat messages answered 500 and readings dropped across a one-second restart without this.
# The residual risk: a write whose reply was lost in the drop is sent again. Every write here is
# idempotent (SET, SET NX claims, stream entries carrying event ids that consumers dedup) except a
# dedup claim repeated after it succeeded, which then reads as "seen" once: documented in
# docs/deployment.md.
REDIS_RETRIES = 6
REDIS_BACKOFF = ExponentialBackoff(cap=1.0, base=0.1)


def connect(url: str) -> Redis:
    """One client (with its own connection pool) per process; string responses decoded."""
    return Redis.from_url(
        url,
        decode_responses=True,
        health_check_interval=30,
        retry=Retry(REDIS_BACKOFF, REDIS_RETRIES),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )


class RedisCache:
    def __init__(self, client: Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix + "cache:"

    async def get(self, key: str) -> str | None:
        return cast(str | None, await self._redis.get(self._prefix + key))

    async def get_many(self, keys: list[str]) -> list[str | None]:
        if not keys:
            return []
        return cast(list[str | None], await self._redis.mget([self._prefix + key for key in keys]))

    async def set(self, key: str, value: str, ttl_s: float | None = None) -> None:
        px = None if ttl_s is None else max(1, int(ttl_s * 1000))
        await self._redis.set(self._prefix + key, value, px=px)

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)


class RedisDedupStore:
    def __init__(self, client: Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix + "dedup:"

    async def first_seen(self, key: str, ttl_s: float) -> bool:
        created = await self._redis.set(self._prefix + key, "1", nx=True, px=max(1, int(ttl_s * 1000)))
        return bool(created)

    async def forget(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)


class RedisLock:
    def __init__(self, client: Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix + "lock:"
        self._refresh = client.register_script(_REFRESH_IF_OWNER)
        self._release = client.register_script(_RELEASE_IF_OWNER)

    async def acquire(self, name: str, owner: str, ttl_s: float) -> bool:
        acquired = await self._redis.set(self._prefix + name, owner, nx=True, px=max(1, int(ttl_s * 1000)))
        return bool(acquired)

    async def refresh(self, name: str, owner: str, ttl_s: float) -> bool:
        result = await self._refresh(keys=[self._prefix + name], args=[owner, max(1, int(ttl_s * 1000))])
        return bool(result)

    async def release(self, name: str, owner: str) -> bool:
        return bool(await self._release(keys=[self._prefix + name], args=[owner]))

    async def owner(self, name: str) -> str | None:
        return cast(str | None, await self._redis.get(self._prefix + name))


class RedisGeoIndex:
    def __init__(self, client: Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix + "geo:"

    async def add(self, key: str, member: str, *, lat: float, lng: float) -> None:
        await self._redis.geoadd(self._prefix + key, (lng, lat, member))

    async def remove(self, key: str, member: str) -> None:
        await self._redis.zrem(self._prefix + key, member)

    async def nearest(self, key: str, *, lat: float, lng: float, radius_m: float, count: int) -> list[GeoHit]:
        # ASC with COUNT and without ANY: Redis returns the true nearest `count`, not any `count`.
        rows: Any = await self._redis.geosearch(
            self._prefix + key,
            longitude=lng,
            latitude=lat,
            radius=radius_m,
            unit="m",
            sort="ASC",
            count=count,
            withdist=True,
        )
        return [GeoHit(str(member), float(distance)) for member, distance in rows]


class RedisEventBus:
    def __init__(self, client: Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix + "stream:"

    async def publish(self, stream: str, fields: Mapping[str, str], *, maxlen: int | None = None) -> str:
        payload: dict[Any, Any] = dict(fields)
        message_id = await self._redis.xadd(
            self._prefix + stream, payload, maxlen=maxlen, approximate=maxlen is not None
        )
        return str(message_id)

    async def ensure_group(self, stream: str, group: str) -> None:
        try:
            await self._redis.xgroup_create(self._prefix + stream, group, id="$", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def read(
        self, stream: str, group: str, consumer: str, *, count: int = 10, block_ms: int = 0
    ) -> list[BusMessage]:
        response: Any = await self._redis.xreadgroup(
            group, consumer, {self._prefix + stream: ">"}, count=count, block=block_ms or None
        )
        return [
            BusMessage(stream, str(message_id), dict(fields))
            for _name, entries in (response or [])
            for message_id, fields in entries
        ]

    async def ack(self, stream: str, group: str, message_ids: Sequence[str]) -> int:
        if not message_ids:
            return 0
        return int(await self._redis.xack(self._prefix + stream, group, *message_ids))

    async def claim_stale(
        self, stream: str, group: str, consumer: str, *, min_idle_s: float, count: int = 10
    ) -> list[BusMessage]:
        response: Any = await self._redis.xautoclaim(
            self._prefix + stream, group, consumer, min_idle_time=int(min_idle_s * 1000), count=count
        )
        entries = response[1]
        # Entries trimmed from the stream come back as None fields: nothing left to deliver.
        return [
            BusMessage(stream, str(message_id), dict(fields))
            for message_id, fields in entries
            if fields is not None
        ]

    async def pending_count(self, stream: str, group: str) -> int:
        summary: Any = await self._redis.xpending(self._prefix + stream, group)
        return int(summary["pending"])
