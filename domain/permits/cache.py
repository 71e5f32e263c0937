"""A per-process cache of "does this site have a night-work permit right now?", for the hot paths that
ask it (each noise reading at night, each camera frame with people at night).

An answer is kept for at most ``ttl_s`` (so a permit registered or revoked counts within a minute) and
a "yes" never past the end of the permit's night: a permit that ends at 23:00 stops counting at 23:00,
not five minutes later.
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
    checked: float
    until: dt.datetime | None  # None: no permit


class NightPermitCache:
    def __init__(
        self, lookup: Lookup, *, ttl_s: float = DEFAULT_TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._lookup, self._ttl_s, self._clock = lookup, ttl_s, clock
        self._answers: dict[str, _Answer] = {}

    async def permitted(self, site_code: str, at: dt.datetime) -> bool:
        cached = self._answers.get(site_code)
        if cached is not None and self._clock() - cached.checked < self._ttl_s:
            if cached.until is None:
                return False
            if at < cached.until:
                return True
        permit = await self._lookup(site_code, at)
        until = None
        if permit is not None:
            end = permit.get("covers_until")
            until = dt.datetime.fromisoformat(str(end)) if end else at + dt.timedelta(seconds=self._ttl_s)
        self._answers[site_code] = _Answer(self._clock(), until)
        return until is not None and at < until
