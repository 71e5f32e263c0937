"""``python -m config <command>``: migrate, makemigrations, seed, serve, and run (all of them).

``run`` is what ``make run`` calls: migrate, seed the demo data (embedded mode only), print the demo
accounts, and serve the whole system in one process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from sanic import Sanic
from sanic.worker.loader import AppLoader
from sanic.worker.manager import WorkerManager
from tortoise.migrations.api import migrate as tortoise_migrate

from config.app import create_app
from config.container import close_database, open_database, open_runtime
from config.database import tortoise_config
from config.settings import ConfigurationError, Settings, load_settings
from config.workers import embedded_workers

log = logging.getLogger("config")
APP_NAME = "wenling"


async def migrate(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await tortoise_migrate(config=tortoise_config(settings.effective_database_url))
    await close_database()


def makemigrations(settings: Settings, extra_args: list[str]) -> int:
    """Generate migrations with Tortoise's own tool from the current models (needs no server)."""
    with tempfile.TemporaryDirectory() as scratch:
        config_file = Path(scratch) / "tortoise.json"
        config_file.write_text(json.dumps(tortoise_config(f"sqlite://{scratch}/scratch.sqlite3")))
        tool = Path(sys.executable).with_name("tortoise")
        return subprocess.call([str(tool), "--config-file", str(config_file), "makemigrations", *extra_args])  # noqa: S603


async def seed(settings: Settings) -> list[tuple[str, str, str]]:
    from config.seed import seed_demo_data  # noqa: PLC0415 - demo data is only loaded when asked for

    await open_database(settings)
    try:
        return await seed_demo_data(settings.data_dir)
    finally:
        await close_database()


def print_accounts(accounts: list[tuple[str, str, str]]) -> None:
    print("\nDemo accounts (embedded mode only; POST /api/v1/auth/staff-login):")
    for username, password, role in accounts:
        print(f"  {username:<22} {password:<16} {role}")


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Sanic prints its own lines; the state-machine chatter of the embedded broker is not news.
    for name in ("sanic.root", "sanic.error", "sanic.access", "sanic.server", "sanic.websockets"):
        logging.getLogger(name).propagate = False
    for name in ("transitions", "amqtt"):
        logging.getLogger(name).setLevel(logging.WARNING)


def app_from_environment() -> Sanic[Any, Any]:
    """The AppLoader's factory. Sanic calls it in the main process and again in every worker process
    it spawns, so each process reads the settings once and builds its own app (module-level apps do
    not survive the spawn, which is why ``WORKERS>1`` used to fail)."""
    settings = load_settings()
    configure_logging(settings)
    return create_app(settings, name=APP_NAME, run_workers=settings.run_embedded_workers)


def serve(settings: Settings) -> None:
    if settings.workers > 1 and settings.run_embedded_workers:
        # Every API process would run its own bridge, dispatcher and embedded broker.
        raise ConfigurationError(
            "WORKERS>1 needs RUN_EMBEDDED_WORKERS=false: run the background workers as their own "
            "processes (python -m config worker NAME, see docs/deployment.md)"
        )
    # Sanic kills every worker when one has not acknowledged its start within a fixed 30 s; each worker
    # imports the app and warms its NLU engine first, which a loaded host can exceed. Sanic's
    # maintainers point at this class attribute for the purpose (sanic-org/sanic#2629).
    WorkerManager.THRESHOLD = round(settings.worker_startup_timeout_s * 10)  # counted in 0.1 s polls
    # This process's app is built from the settings already read; worker processes use the loader.
    app = create_app(settings, name=APP_NAME, run_workers=settings.run_embedded_workers)
    loader = AppLoader(factory=app_from_environment)
    log.info("serving on http://%s:%s with %s worker(s)", settings.host, settings.port, settings.workers)
    app.prepare(
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        single_process=settings.workers == 1,
        access_log=False,
        motd=False,
    )
    if settings.workers == 1:
        Sanic.serve_single(primary=app)
    else:
        Sanic.serve(primary=app, app_loader=loader)


def run_worker(settings: Settings, name: str) -> int:
    """Production: one background worker in its own process (the API runs with RUN_EMBEDDED_WORKERS=false)."""
    workers = dict(embedded_workers())
    if name not in workers:
        print(f"unknown worker {name!r}; choose one of: {', '.join(workers)}")
        return 2

    async def run() -> None:
        runtime = await open_runtime(settings)
        try:
            await workers[name](runtime)
        finally:
            await runtime.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config")
    parser.add_argument("command", choices=["migrate", "makemigrations", "seed", "serve", "run", "worker"])
    parser.add_argument(
        "name", nargs="?", help="for `worker`: which worker to run alone (see config/workers.py)"
    )
    args, extra = parser.parse_known_args(argv)
    settings = load_settings()
    configure_logging(settings)
    if args.command == "makemigrations":
        return makemigrations(settings, extra)
    if args.command == "worker":
        return run_worker(settings, args.name or "")
    if args.command in ("migrate", "run"):
        asyncio.run(migrate(settings))
    if args.command == "seed" or (
        args.command == "run" and settings.seed_demo_data and not settings.is_production
    ):
        print_accounts(asyncio.run(seed(settings)))
    if args.command in ("serve", "run"):
        try:
            serve(settings)
        except ConfigurationError as error:
            print(f"cannot serve: {error}", file=sys.stderr)
            return 2
    return 0
