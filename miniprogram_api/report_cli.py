"""``python -m miniprogram_api report --period 2026-10 [--out DIR]``: write a report's files.

Writes ``report-<period>.json``, ``.xlsx``, ``.html`` (with ``echarts.min.js`` copied next to it, so
the page works offline) and ``charts/<name>.png``. The database comes from ``DATABASE_URL`` as for
the server (empty: the embedded SQLite file).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import pkgutil
import shutil
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from tortoise import Tortoise

import domain
from config.settings import load_settings
from domain.reports.periods import parse_period
from domain.reports.services import build_report, deployed_report_env
from miniprogram_api.report_render import ECHARTS_FILE, html_report, png_charts, xlsx_bytes

log = logging.getLogger(__name__)


def _context_modules() -> dict[str, Iterable[str | ModuleType]]:
    """Every bounded context with models, labelled by its package name (as config.database does).

    Entry points may not import the composition root, so the CLI discovers the contexts itself.
    """
    modules: dict[str, Iterable[str | ModuleType]] = {}
    for info in pkgutil.iter_modules(domain.__path__):
        if info.ispkg and (Path(domain.__path__[0]) / info.name / "models.py").exists():
            modules[info.name] = [f"domain.{info.name}.models"]
    return modules


def _tortoise_url(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "asyncpg://" + url.split("://", 1)[1]
    return url


def write_files(report: dict[str, Any], out: Path) -> list[Path]:
    """Blocking file output (called off the loop)."""
    out.mkdir(parents=True, exist_ok=True)
    key = report["period"]["key"]
    written = [out / f"report-{key}.json", out / f"report-{key}.xlsx", out / f"report-{key}.html"]
    written[0].write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    written[1].write_bytes(xlsx_bytes(report))
    written[2].write_text(html_report(report, js_host="./"), encoding="utf-8")
    shutil.copyfile(ECHARTS_FILE, out / "echarts.min.js")
    (out / "charts").mkdir(exist_ok=True)
    for name, data in png_charts(report).items():
        path = out / "charts" / f"{name}.png"
        path.write_bytes(data)
        written.append(path)
    return written


async def run_report(period_text: str, out: Path, *, database_url: str) -> list[Path]:
    period = parse_period(period_text)
    await Tortoise.init(
        db_url=_tortoise_url(database_url), modules=_context_modules(), use_tz=True, timezone="UTC"
    )
    try:
        report = await build_report(period, deployed_report_env(), now=dt.datetime.now(dt.UTC))
    finally:
        await Tortoise.close_connections()
    return await asyncio.to_thread(write_files, report, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m miniprogram_api")
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="write a monthly, quarterly or annual report")
    report.add_argument("--period", required=True, help="2026-10, 2026-Q3 or 2026")
    report.add_argument("--out", type=Path, default=Path("var/reports"), help="output folder")
    args = parser.parse_args(argv)
    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    written = asyncio.run(run_report(args.period, args.out, database_url=settings.effective_database_url))
    for path in written:
        print(path)
    return 0
