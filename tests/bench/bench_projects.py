"""Project queries at city scale: 10,000 projects, nearby (5 km, 20 results) and keyword search.

Latency is measured at a fixed 100 requests/s (open loop); throughput with wrk. Both are reported as
ratios to a bare Sanic JSON endpoint measured in the same run, on 1 and on 2 worker processes. Uses
PostgreSQL when DATABASE_URL is set (a separate ``wenling_bench`` database on that server), SQLite
otherwise.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from config.container import close_database, init_tortoise
from config.database import tortoise_config
from config.demo_data import TOWNS, enterprise_rows, project_row
from domain.projects.models import Enterprise, Project
from tests.bench.load import bare_sanic, fixed_rate, wrk_throughput
from tests.live_server import live_server

PROJECTS = 10_000
KEYWORDS = ("万昌", "大道", "安置房", "污水", "泽国", "厂房", "九龙", "海塘", "中学", "锦绣")


async def prepare_postgres(url: str, *, name: str = "wenling_bench") -> str:
    """A fresh database ``name`` on the server of ``url`` (dropped first), its URL returned."""
    import asyncpg  # noqa: PLC0415

    parts = urlsplit(url)
    admin = await asyncpg.connect(urlunsplit(parts._replace(scheme="postgres", path="/postgres")))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _seed(url: str) -> None:
    from tortoise.migrations.api import migrate  # noqa: PLC0415

    await migrate(config=tortoise_config(url))
    await close_database()
    await init_tortoise(url)
    rng = random.Random(1)
    enterprises = [await Enterprise.create(**row) for row in enterprise_rows(30, rng)]  # type: ignore[arg-type]
    rows = [project_row(index, rng) for index in range(PROJECTS)]
    await Project.bulk_create(
        [Project(**row, contractor=rng.choice(enterprises)) for row in rows], batch_size=1000
    )
    await close_database()


def _nearby_path(rng: random.Random) -> str:
    town = rng.choice(TOWNS)
    lat, lng = town.lat + rng.uniform(-0.01, 0.01), town.lng + rng.uniform(-0.01, 0.01)
    return f"/api/v1/projects?near={lat:.5f},{lng:.5f}&radius_m=5000&page_size=20"


def _keyword_path(rng: random.Random) -> str:
    return f"/api/v1/projects?q={quote(rng.choice(KEYWORDS))}&page_size=20"


async def _bare(bare_url: str) -> dict[str, float]:
    latency = await fixed_rate(bare_url, lambda _rng: "/", rate=100, seconds=5)
    return {**latency, "throughput_rps": wrk_throughput(bare_url + "/")}


async def _measure(app_url: str, bare_rps: float) -> dict[str, object]:
    results: dict[str, object] = {}
    for name, make_path, sample in (
        ("nearby", _nearby_path, _nearby_path(random.Random(3))),
        ("keyword", _keyword_path, _keyword_path(random.Random(3))),
    ):
        latency = await fixed_rate(app_url, make_path, rate=100, seconds=10)
        rps = wrk_throughput(app_url + sample)
        results[name] = {**latency, "throughput_rps": rps, "throughput_ratio": round(rps / bare_rps, 3)}
    return results


def main() -> dict[str, object]:
    database_url = os.environ.get("DATABASE_URL", "")
    with tempfile.TemporaryDirectory() as scratch:
        if database_url.startswith(("postgres://", "postgresql://")):
            url = asyncio.run(prepare_postgres(database_url))
        else:
            url = f"sqlite://{scratch}/bench.sqlite3"
        asyncio.run(_seed(url))
        env = {"DATABASE_URL": url, "SEED_DEMO_DATA": "false", "REDIS_URL": "", "MQTT_URL": ""}
        report: dict[str, object] = {
            "bench": "projects",
            "database": url.split(":", 1)[0],
            "projects": PROJECTS,
        }
        # Baselines and app alike on 1 and on 2 worker processes (`config serve` with WORKERS=2 runs
        # through Sanic's AppLoader, as production does).
        bare_by_workers: dict[int, dict[str, float]] = {}
        for workers in (1, 2):
            with bare_sanic(workers) as bare_url:
                bare_by_workers[workers] = asyncio.run(_bare(bare_url))
        report["bare"], report["bare_2_workers"] = bare_by_workers[1], bare_by_workers[2]
        # The public search answers from the in-process read model; the database path is measured too.
        runs = (("read_model", "30", 1), ("sql", "0", 1), ("read_model_2_workers", "30", 2))
        for mode, ttl, workers in runs:
            server_env = {**env, "PROJECT_READ_MODEL_TTL_S": ttl, "WORKERS": str(workers)}
            with live_server(Path(scratch), command="serve", env=server_env) as app_url:
                bare_rps = float(bare_by_workers[workers]["throughput_rps"])
                report[mode] = asyncio.run(_measure(app_url, bare_rps))
    print(json.dumps(report, ensure_ascii=False))
    return report


if __name__ == "__main__":
    main()
    sys.exit(0)
