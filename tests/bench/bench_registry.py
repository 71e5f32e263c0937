"""Registry import at city scale: 900 projects and sites, ~3,000 devices and 2,700 cameras, on
PostgreSQL (``DATABASE_URL``) or else SQLite. Reports the dry run, the import and the idempotent
re-import in seconds, the XLSX parse time, and the process's peak memory; the baseline in the same run
is parsing the same workbook alone, so the ratios say what the database work costs on top of reading.

Prints one JSON line (collected by ``python -m tests.bench``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import resource
import tempfile
import time
from pathlib import Path

from tortoise.migrations.api import migrate

from config.container import close_database, init_tortoise
from config.database import tortoise_config
from domain.projects import registry
from domain.projects.registry_files import read_city_file, xlsx_city_file
from tests.city_file import city_sheets
from tests.conftest import _reset_postgres


async def _database() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        await _reset_postgres(url)
    else:
        url = f"sqlite://{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    await migrate(config=tortoise_config(url))
    await close_database()
    return url


async def _timed(label: str, results: dict[str, float], coroutine: object) -> object:
    started = time.perf_counter()
    value = await coroutine  # type: ignore[misc]
    results[label] = round(time.perf_counter() - started, 3)
    return value


async def main() -> dict[str, object]:
    url = await _database()
    workbook = xlsx_city_file(city_sheets())
    started = time.perf_counter()
    sheets = read_city_file(workbook, kind_of_file="zip", sheet=None)
    seconds: dict[str, float] = {"parse_xlsx_s": round(time.perf_counter() - started, 3)}
    await init_tortoise(url)
    now = dt.datetime.now(dt.UTC)
    try:
        for label, dry_run in (("dry_run_s", True), ("import_s", False), ("reimport_s", False)):
            await _timed(
                label, seconds,
                registry.import_registry(sheets, actor="bench", source="bench", dry_run=dry_run, now=now),
            )  # fmt: skip
    finally:
        await close_database()
    if url.startswith("postgres"):
        await _reset_postgres(url)  # leave the shared test database empty, as the suite expects
    rows = {kind.value: len(table) - 1 for kind, table in sheets.items()}
    return {
        "bench": "registry_import",
        "database": url.split("://", 1)[0],
        "rows": rows,
        "workbook_bytes": len(workbook),
        **seconds,
        "import_vs_parse": round(seconds["import_s"] / max(seconds["parse_xlsx_s"], 1e-9), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), ensure_ascii=False))
