"""The bridge warms its pipeline before the first reading: saved rule states and today's night
permits in bulk. Left to the first reading of each device, a city's lookups ran one after another
and held the stream back (bench_iot: first readings up to 1.6 s late, and the alarms with them)."""

from __future__ import annotations

import datetime as dt

from adapters.config_files import load_rule_config
from adapters.memory import MemoryCache, MemoryEventBus
from config.settings import REPO_ROOT
from domain.alerts.engine import RuleEngine
from domain.alerts.readings import DeviceInfo
from domain.alerts.telemetry import Reading
from domain.permits.cache import NightPermitCache, Stretch
from iot_bridge.pipeline import STATE_KEY, Pipeline

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
NIGHT = dt.datetime(2026, 12, 4, 22, 30, tzinfo=SHANGHAI)
PERMITTED = (NIGHT.replace(hour=22, minute=0), NIGHT.replace(hour=23, minute=0))
DEVICES = {
    "N1": DeviceInfo("N1", "S1", "noise", 60),
    "N2": DeviceInfo("N2", "S2", "noise", 60),
    "D1": DeviceInfo("D1", "S3", "dust", 60),
}


class CountingCache(MemoryCache):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def get(self, key: str) -> str | None:
        self.reads += 1
        return await super().get(key)


class Lookups:
    def __init__(self, *, bulk_fails: bool = False) -> None:
        self.single: list[str] = []
        self.bulk: list[list[str]] = []
        self.bulk_fails = bulk_fails

    async def one(self, site: str, since: dt.datetime, until: dt.datetime) -> list[Stretch]:
        self.single.append(site)
        return [PERMITTED] if site == "S1" else []

    async def many(
        self, sites: list[str], since: dt.datetime, until: dt.datetime
    ) -> dict[str, list[Stretch]]:
        self.bulk.append(sites)
        if self.bulk_fails:
            raise ConnectionError("database restarting")
        return {"S1": [PERMITTED]}  # like the service, sites without a permit may be absent


def make_pipeline(cache: MemoryCache, lookups: Lookups) -> Pipeline:
    return Pipeline(
        engine=RuleEngine(load_rule_config(REPO_ROOT / "config" / "alert_rules.yml")),
        bus=MemoryEventBus(),
        cache=cache,
        raw_sink=None,  # type: ignore[arg-type]  # nothing is flushed here
        permit_lookup=lookups.one,
        permit_bulk_lookup=lookups.many,
    )


def noise(device: str, site: str) -> Reading:
    return Reading(device, site, "noise", NIGHT.astimezone(dt.UTC), {"leq_db": 50.0}, {"leq_db": "N"})


async def test_warming_loads_every_saved_state_and_the_permits_of_noise_sites_in_one_query() -> None:
    cache, lookups = CountingCache(), Lookups()
    seed = make_pipeline(MemoryCache(), Lookups())
    await seed.submit(noise("N1", "S1"))
    saved = seed.engine.export_dirty()["N1"]
    await cache.set(STATE_KEY + "N1", saved)
    pipeline = make_pipeline(cache, lookups)
    await pipeline.warm(DEVICES, now=NIGHT)
    assert cache.reads == 3 and pipeline.engine.states["N1"].to_json() == saved
    assert lookups.bulk == [["S1", "S2"]] and pipeline.stats["permit_days_warmed"] == 2  # not S3 (dust)
    await pipeline.submit(noise("N1", "S1"))
    await pipeline.submit(noise("N2", "S2"))
    assert cache.reads == 3 and lookups.single == []  # the readings waited for no lookup
    assert pipeline._permits is not None and await pipeline._permits.permitted("S1", NIGHT)
    assert not await pipeline._permits.permitted("S2", NIGHT)


async def test_a_failed_bulk_query_leaves_each_site_to_ask_alone() -> None:
    lookups = Lookups(bulk_fails=True)
    pipeline = make_pipeline(MemoryCache(), lookups)
    await pipeline.warm(DEVICES, now=NIGHT)  # logged, not raised: the bridge starts anyway
    assert pipeline.stats["permit_days_warmed"] == 0
    assert pipeline._permits is not None and await pipeline._permits.permitted("S1", NIGHT)
    assert lookups.single == ["S1"]


async def test_a_warmed_day_expires_like_any_other() -> None:
    clock = [0.0]
    lookups = Lookups()
    cache = NightPermitCache(lookups.one, bulk_lookup=lookups.many, ttl_s=60, clock=lambda: clock[0])
    assert await cache.warm(["S1", "S2"], NIGHT) == 2
    assert await cache.permitted("S1", NIGHT) and lookups.single == []
    clock[0] = 61.0
    assert await cache.permitted("S1", NIGHT) and lookups.single == ["S1"]
    assert await NightPermitCache(lookups.one).warm(["S1"], NIGHT) == 0  # no bulk lookup: nothing to do
