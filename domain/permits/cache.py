"""A per-process cache of "may this site work at night at this moment?", for the hot paths that ask it
(each noise reading at night, each camera frame with people at night).

One lookup fetches the site's permitted stretches over a whole local day (noon to noon, so one night is
never split), and every reading of that day is answered from them, by its own time: a permit that ends
at 23:00 stops counting at 23:00, a reading of 21:00 before a 22:00 permit is not covered, and a
device catching up after an outage (05:59 and 22:30 in one burst) gets each moment's own answer. The
stretches are kept for at most ``ttl_s`` of wall time, so a permit registered or revoked counts within
a minute.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

Stretch = tuple[dt.datetime, dt.datetime]
StretchLookup = Callable[[str, dt.datetime, dt.datetime], Awaitable[list[Stretch]]]
BulkStretchLookup = Callable[[list[str], dt.datetime, dt.datetime], Awaitable[dict[str, list[Stretch]]]]
DEFAULT_TTL_S = 60.0
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = dt.time(12, 0)


def local_day(at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The noon-to-noon local day holding ``at``: a night (22:00-06:00) lies wholly inside one."""
    local = at.astimezone(SHANGHAI)
    day = local.date() - (dt.timedelta(days=1) if local.time() < NOON else dt.timedelta(0))
    begins = dt.datetime.combine(day, NOON, tzinfo=SHANGHAI)
    return begins, begins + dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class _Day:
    checked: float  # clock time of the lookup
    begins: dt.datetime
    ends: dt.datetime
    stretches: tuple[Stretch, ...]

    def holds(self, at: dt.datetime) -> bool:
        return self.begins <= at < self.ends


class NightPermitCache:
    def __init__(
        self,
        lookup: StretchLookup,
        *,
        bulk_lookup: BulkStretchLookup | None = None,
        ttl_s: float = DEFAULT_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup, self._bulk_lookup, self._ttl_s, self._clock = lookup, bulk_lookup, ttl_s, clock
        self._days: dict[str, _Day] = {}

    async def permitted(self, site_code: str, at: dt.datetime) -> bool:
        known = self._days.get(site_code)
        if known is None or not known.holds(at) or self._clock() - known.checked >= self._ttl_s:
            begins, ends = local_day(at)
            stretches = tuple(await self._lookup(site_code, begins, ends))
            known = self._days[site_code] = _Day(self._clock(), begins, ends, stretches)
        return any(start <= at < end for start, end in known.stretches)

    async def warm(self, site_codes: list[str], at: dt.datetime) -> int:
        """Fetch the day holding ``at`` for many sites in one query (a bridge at start, and with each
        refresh of its registry), so the first night readings of a city do not each wait for their
        own lookup. Without a bulk lookup this does nothing; returns the number of sites cached."""
        if self._bulk_lookup is None or not site_codes:
            return 0
        begins, ends = local_day(at)
        found = await self._bulk_lookup(site_codes, begins, ends)
        checked = self._clock()
        for code in site_codes:
            self._days[code] = _Day(checked, begins, ends, tuple(found.get(code, ())))
        return len(site_codes)
