"""The access token of one WeChat app, shared by every process through the cache port.

Tokens come from ``POST /cgi-bin/stable_token`` (the same token for every caller), are cached with a
TTL a little shorter than the platform's, and only one process refreshes at a time (the lock port).
After a confirmed rejection (40001/40014/42001 for the token we hold) the store asks once without
``force_refresh``; only if the platform hands back the very token it just rejected does it force a
refresh, because forced refreshes are limited to 20 a day.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from domain.ports import Cache, Lock

log = logging.getLogger(__name__)

# (force_refresh) -> (access_token, expires_in seconds)
Fetch = Callable[[bool], Awaitable[tuple[str, int]]]

REFRESH_MARGIN_S = 300  # renew 5 minutes before the platform's expiry
LOCK_TTL_S = 15.0
POLL_S = 0.05


class TokenUnavailable(Exception):
    """Another process holds the refresh lock and no token appeared in time."""


class TokenStore:
    def __init__(self, *, cache: Cache, lock: Lock, appid: str, fetch: Fetch, wait_s: float) -> None:
        self._cache = cache
        self._lock = lock
        self._key = f"wechat:token:{appid}"
        self._lock_name = f"wechat:token-refresh:{appid}"
        self._fetch = fetch
        self._wait_s = wait_s
        self._appid = appid

    async def get(self) -> str:
        token = await self._cache.get(self._key)
        if token:
            return token
        return await self._refresh(rejected=None)

    async def after_rejection(self, rejected: str) -> str:
        """A fresh token after ``rejected`` was refused; at most one refresh per rejection."""
        current = await self._cache.get(self._key)
        if current and current != rejected:
            return current  # another caller already replaced it
        await self._cache.delete(self._key)
        return await self._refresh(rejected=rejected)

    async def _refresh(self, *, rejected: str | None) -> str:
        owner = uuid.uuid4().hex
        deadline = time.monotonic() + self._wait_s
        while True:
            if await self._lock.acquire(self._lock_name, owner, LOCK_TTL_S):
                try:
                    return await self._refresh_locked(rejected)
                finally:
                    await self._lock.release(self._lock_name, owner)
            await asyncio.sleep(POLL_S)
            current = await self._cache.get(self._key)
            if current and current != rejected:
                return current
            if time.monotonic() > deadline:
                raise TokenUnavailable(f"token refresh for {self._appid} is held by another process")

    async def _refresh_locked(self, rejected: str | None) -> str:
        current = await self._cache.get(self._key)
        if current and current != rejected:
            return current
        token, expires_in = await self._fetch(False)
        if rejected is not None and token == rejected:
            log.warning("stable_token returned the rejected token for %s: forcing a refresh", self._appid)
            token, expires_in = await self._fetch(True)
        ttl = expires_in - REFRESH_MARGIN_S if expires_in > 2 * REFRESH_MARGIN_S else expires_in / 2
        await self._cache.set(self._key, token, max(1.0, ttl))
        log.info("access token for %s refreshed (valid %ss)", self._appid, expires_in)
        return token
