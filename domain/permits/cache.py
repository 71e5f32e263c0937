"""A per-process cache of "does this site have a night-work permit right now?", for the hot paths that
ask it (each noise reading at night, each camera frame with people at night).

An answer is kept for at most ``ttl_s`` (so a permit registered or revoked counts within a minute), and
it answers only for the moments it was about: a "yes" within the permit's night (a permit that ends at
23:00 stops counting at 23:00, not five minutes later, and never covers 21:00 before it began), a "no"
within ``ttl_s`` of the moment asked. Readings are judged on their own time, and a device catching up
after an outage sends 05:59 and 22:00 in the same second: one answer must not stand for the other.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

Lookup = Callable[[str, dt.datetime], Awaitable[dict[str, Any] | None]]
DEFAULT_TTL_S = 60.0


@dataclass(frozen=True, slots=True)
class _Answer:
    checked: float  # clock time of the lookup
    asked_at: dt.datetime  # the moment the lookup was about
    since: dt.datetime | None  # the permit's night began (None: no permit)
    until: dt.datetime | None  # the permit's night ends (None: no permit)

    def about(self, at: dt.datetime, *, ttl_s: float) -> bool:
        """Whether this answer is the answer for ``at``."""
        if self.until is None or self.since is None:
            return abs((at - self.asked_at).total_seconds()) < ttl_s
        return self.since <= at < self.until


class NightPermitCache:
    def __init__(
        self, lookup: Lookup, *, ttl_s: float = DEFAULT_TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._lookup, self._ttl_s, self._clock = lookup, ttl_s, clock
        self._answers: dict[str, _Answer] = {}

    async def permitted(self, site_code: str, at: dt.datetime) -> bool:
        cached = self._answers.get(site_code)
        fresh = cached is not None and self._clock() - cached.checked < self._ttl_s
        if cached is not None and fresh and cached.about(at, ttl_s=self._ttl_s):
            return cached.until is not None
        permit = await self._lookup(site_code, at)
        since = until = None
        if permit is not None:
            start, end = permit.get("covers_from"), permit.get("covers_until")
            since = dt.datetime.fromisoformat(str(start)) if start else at
            until = dt.datetime.fromisoformat(str(end)) if end else at + dt.timedelta(seconds=self._ttl_s)
        self._answers[site_code] = _Answer(self._clock(), at, since, until)
        return until is not None and since is not None and since <= at < until
