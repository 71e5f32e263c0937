"""The bundle of ports a process runs with, built once by the composition root (``config.container``).

Entry points receive it on ``app.ctx.infra`` (API) or as an argument (workers) and never build ports
themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.ports import Cache, DedupStore, EventBus, GeoIndex, Lock


@dataclass(slots=True)
class Infrastructure:
    bus: EventBus
    dedup: DedupStore
    lock: Lock
    cache: Cache
    geo: GeoIndex
    redis_backed: bool
