"""Short-lived answers to public read queries (project details, a search term's matches), kept in
the process that asked.

They used to live in the shared cache port: two Redis round trips of each project question, about
a tenth of the webhook's CPU, to save a query that a minute of staleness makes harmless anyway (no
one invalidates them; they expire). Each API process now keeps its own, bounded and for the same
minute, and asks the database at most once a minute per project or term. Values are kept as JSON
text, so no caller can change what the next one reads."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

DEFAULT_TTL_S = 60.0
DEFAULT_MAX_ITEMS = 4096


class ReadCache:
    def __init__(
        self,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        max_items: int = DEFAULT_MAX_ITEMS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s, self._max_items, self._clock = ttl_s, max_items, clock
        self._items: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def get(self, key: str) -> str | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires_at, value = item
        if expires_at <= self._clock():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return value

    def put(self, key: str, value: str) -> None:
        self._items[key] = (self._clock() + self._ttl_s, value)
        self._items.move_to_end(key)
        while len(self._items) > self._max_items:
            self._items.popitem(last=False)  # the least recently used
