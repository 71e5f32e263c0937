"""The relay worker: the leader (one lease through the Lock port) publishes the outbox to the bus."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass

from domain.outbox import services
from domain.ports import EventBus, Lock

log = logging.getLogger(__name__)
LEADER_LOCK = "outbox:event-relay"
PURGE_EVERY = dt.timedelta(hours=1)
RELEASE_TIMEOUT_S = 2.0
FAILURE_PAUSE_S = 2.0


@dataclass(frozen=True, slots=True)
class RelayOptions:
    owner: str
    batch: int = 200
    poll_s: float = 0.2  # the idle wait: what an event waits at most before the relay looks again
    lease_s: float = 10.0  # a dead leader's events wait at most this long for the next one
    retention: dt.timedelta = dt.timedelta(days=7)


class EventRelay:
    def __init__(self, bus: EventBus, lock: Lock, options: RelayOptions) -> None:
        self._bus, self._lock, self._options = bus, lock, options
        self.leading = False
        self._purged_at: dt.datetime | None = None

    async def _hold_leadership(self) -> bool:
        name, owner, ttl = LEADER_LOCK, self._options.owner, self._options.lease_s
        was_leading = self.leading
        self.leading = (
            was_leading and await self._lock.refresh(name, owner, ttl)
        ) or await self._lock.acquire(name, owner, ttl)
        if self.leading and not was_leading:
            log.info("%s is now the event relay leader", owner)
        return self.leading

    async def step(self, *, now: dt.datetime) -> int:
        """One pass if this process leads: publish a batch, purge old rows hourly; returns events sent."""
        if not await self._hold_leadership():
            return 0
        sent = await services.relay_once(self._bus, batch=self._options.batch, now=now)
        if self._purged_at is None or now - self._purged_at >= PURGE_EVERY:
            self._purged_at = now
            purged = await services.purge_published(before=now - self._options.retention)
            if purged:
                log.info("purged %s published events", purged)
        return sent

    async def run(self) -> None:
        """Until cancelled; a failed pass (database or bus down) is logged and retried."""
        try:
            while True:
                try:
                    sent = await self.step(now=dt.datetime.now(dt.UTC))
                except Exception:
                    log.exception("event relay pass failed; retrying in %s s", FAILURE_PAUSE_S)
                    await asyncio.sleep(FAILURE_PAUSE_S)
                    continue
                if not self.leading:
                    await asyncio.sleep(self._options.lease_s / 3)
                elif sent < self._options.batch:
                    await asyncio.sleep(self._options.poll_s)
        finally:
            if self.leading:
                # Hand over at once rather than after the lease runs out.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(RELEASE_TIMEOUT_S):
                        await asyncio.shield(self._lock.release(LEADER_LOCK, self._options.owner))
