"""An in-process read model of the public project list, for the hottest public queries.

The public search (keyword, nearby, filters) is read thousands of times for every write, and the
answer may be a few seconds stale. So each API process keeps the projects' public summaries in memory,
with coordinates in NumPy arrays, and answers without a database round trip. It is rebuilt from the
database in the background every ``ttl_s`` seconds (the previous one keeps serving meanwhile), and at
once after a write in this process (``invalidate``). The database query path (``queries``) stays the
source of truth and the fallback before the first build.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from domain.geo import EARTH_RADIUS_M, bounding_box

log = logging.getLogger(__name__)

Rows = list[dict[str, Any]]
MAX_CACHED_TERMS = 1024
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class ProjectReadModel:
    rows: tuple[dict[str, Any], ...]  # ordered by code
    lat: FloatArray
    lng: FloatArray
    town: npt.NDArray[np.str_]
    stage: npt.NDArray[np.str_]
    kind: npt.NDArray[np.str_]
    text: npt.NDArray[np.str_]  # name, address and road, for keyword search
    # Keyword masks already computed for this (immutable) model: people search the same few roads.
    term_masks: dict[str, BoolArray] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, rows: Rows) -> ProjectReadModel:
        ordered = tuple(sorted(rows, key=lambda row: row["code"]))
        return cls(
            rows=ordered,
            lat=np.array([row["lat"] for row in ordered], dtype=np.float64),
            lng=np.array([row["lng"] for row in ordered], dtype=np.float64),
            town=np.array([row["town"] for row in ordered], dtype=np.str_),
            stage=np.array([str(row["stage"]) for row in ordered], dtype=np.str_),
            kind=np.array([str(row["kind"]) for row in ordered], dtype=np.str_),
            text=np.array(
                [f"{row['name']}\n{row['address']}\n{row['road']}" for row in ordered], dtype=np.str_
            ),
        )

    def _term_mask(self, term: str) -> BoolArray:
        found = self.term_masks.get(term)
        if found is None:
            # numpy.strings.find is a ufunc: a C loop over all rows, not a Python one.
            found = np.strings.find(self.text, term) >= 0
            if len(self.term_masks) >= MAX_CACHED_TERMS:
                self.term_masks.clear()
            self.term_masks[term] = found
        return found

    def _mask(self, *, terms: list[str], town: str, stage: str | None, kind: str | None) -> BoolArray:
        mask = np.ones(len(self.rows), dtype=np.bool_)
        for term in terms:
            mask &= self._term_mask(term)
        if town:
            mask &= self.town == town
        if stage:
            mask &= self.stage == stage
        if kind:
            mask &= self.kind == kind
        return mask

    def text_page(
        self, *, terms: list[str], town: str, stage: str | None, kind: str | None, offset: int, limit: int
    ) -> tuple[Rows, int]:
        indexes = np.flatnonzero(self._mask(terms=terms, town=town, stage=stage, kind=kind))
        page = indexes[offset : offset + limit]
        return [self.rows[i] for i in page.tolist()], len(indexes)

    def nearby_page(
        self,
        *,
        lat: float,
        lng: float,
        radius_m: float,
        terms: list[str],
        town: str,
        stage: str | None,
        kind: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[tuple[dict[str, Any], float]], int]:
        """Rows within ``radius_m`` nearest first, each with its exact haversine distance."""
        min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius_m)
        mask = (self.lat >= min_lat) & (self.lat <= max_lat) & (self.lng >= min_lng) & (self.lng <= max_lng)
        indexes = np.flatnonzero(mask)
        if len(indexes) and (terms or town or stage or kind):
            indexes = indexes[self._mask(terms=terms, town=town, stage=stage, kind=kind)[indexes]]
        distances = _haversine(lat, lng, self.lat[indexes], self.lng[indexes])
        inside = distances <= radius_m
        indexes, distances = indexes[inside], distances[inside]
        order = np.lexsort((indexes, distances))[offset : offset + limit]
        return [(self.rows[indexes[i]], float(distances[i])) for i in order.tolist()], len(indexes)


def _haversine(lat: float, lng: float, lats: FloatArray, lngs: FloatArray) -> FloatArray:
    phi1, phi2 = math.radians(lat), np.radians(lats)
    d_phi = phi2 - phi1
    d_lambda = np.radians(lngs - lng)
    a = np.sin(d_phi / 2) ** 2 + math.cos(phi1) * np.cos(phi2) * np.sin(d_lambda / 2) ** 2
    result: FloatArray = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))
    return result


class ProjectReadModelCache:
    """Holds the current read model; rebuilds it in the background when it is older than ``ttl_s``."""

    def __init__(self, load: Callable[[], Awaitable[Rows]], *, ttl_s: float = 30.0) -> None:
        self._load = load
        self._ttl_s = ttl_s
        self._model: ProjectReadModel | None = None
        self._built_at = 0.0
        self._refresh: asyncio.Task[None] | None = None
        self._first_build = asyncio.Lock()

    async def current(self) -> ProjectReadModel:
        if self._model is None:
            # Single flight: the requests that arrive before the first build wait for one build.
            async with self._first_build:
                if self._model is None:
                    await self._rebuild()
        elif time.monotonic() - self._built_at > self._ttl_s and self._refresh is None:
            self._refresh = asyncio.create_task(self._rebuild_in_background())
        assert self._model is not None
        return self._model

    def invalidate(self) -> None:
        self._built_at = 0.0

    async def _rebuild(self) -> None:
        rows = await self._load()
        self._model = await asyncio.to_thread(ProjectReadModel.build, rows)
        self._built_at = time.monotonic()

    async def _rebuild_in_background(self) -> None:
        try:
            await self._rebuild()
        except Exception:
            # Keep serving the previous model; the next request past the TTL tries again.
            log.exception("project read model refresh failed")
        finally:
            self._refresh = None
