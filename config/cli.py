"""``python -m config <command>``: migrate, makemigrations, seed, serve, run (all of them), worker,
doctor (the go-live checklist, ``config/doctor.py``), registry (``config/registry_cli.py``) and
evidence (``config/evidence_cli.py``).

``run`` is what ``make run`` calls: migrate, seed the demo data (embedded mode only), print the demo
accounts, and serve the whole system in one process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
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
from config.doctor import doctor
from config.heap import settle_after_start, settle_heap
from config.listener import reuse_port_listener
from config.registry_cli import main as registry_main
from config.settings import ConfigurationError, Settings, load_settings
from config.worker_watchdog import install_worker_watchdog
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


def print_banner(settings: Settings, log_file: Path) -> None:
    base = f"http://{settings.host}:{settings.port}"
    print(
        f"\n温岭建设工程管理后台 is starting in {settings.app_mode.value} mode on {base}\n"
        f"  health {base}/healthz   API docs {base}/docs   projects {base}/api/v1/projects\n"
        f"  full log: {log_file}   stop: Ctrl-C\n",
        flush=True,
    )


def app_from_environment() -> Sanic[Any, Any]:
    """The AppLoader's factory. Sanic calls it in the main process and again in every worker process
    it spawns, so each process reads the settings once and builds its own app (module-level apps do
    not survive the spawn, which is why ``WORKERS>1`` used to fail)."""
    settings = load_settings()
    configure_logging(settings, demo=False)  # no-op where main() already configured it
    return server_app(settings)


def server_app(settings: Settings) -> Sanic[Any, Any]:
    """The app a server process runs: once started (runtime, NLU and read models built), its heap
    is settled. Tests build apps with ``create_app`` and keep CPython's collector as it is."""
    app = create_app(settings, name=APP_NAME, run_workers=settings.run_embedded_workers)
    app.after_server_start(settle_after_start)
    return app


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
    app = server_app(settings)
    loader = AppLoader(factory=app_from_environment)
    log.info("serving on http://%s:%s with %s worker(s)", settings.host, settings.port, settings.workers)
    # Several workers: each accepts on a socket of its own, balanced by the kernel (config/listener.py).
    listener = reuse_port_listener(settings.host, settings.port) if settings.workers > 1 else None
    app.prepare(
        host=None if listener else settings.host,
        port=None if listener else settings.port,
        sock=listener,
        workers=settings.workers,
        single_process=settings.workers == 1,
        access_log=False,
        motd=False,
    )
    if settings.workers == 1:
        Sanic.serve_single(primary=app)
    else:
        install_worker_watchdog(app)  # Sanic leaves a killed worker dead; this brings it back
        Sanic.serve(primary=app, app_loader=loader)


def stop_on_sigterm() -> None:
    """SIGTERM (systemd, a container stop) cancels the worker like Ctrl-C does, so its shutdown path
    runs (the bridge stores and acknowledges what it has) instead of the process just ending."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)


def run_worker(settings: Settings, name: str) -> int:
    """Production: one background worker in its own process (the API runs with RUN_EMBEDDED_WORKERS=false)."""
    workers = dict(embedded_workers())
    if name not in workers:
        print(f"unknown worker {name!r}; choose one of: {', '.join(workers)}")
        return 2

    async def run() -> None:
        stop_on_sigterm()
        runtime = await open_runtime(settings)
        settle_heap()
        try:
            await workers[name](runtime)
        finally:
            await runtime.close()

    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(run())
    return 0


def configure_logging(settings: Settings, *, demo: bool) -> Path | None:
    """Processes log to stderr (a supervisor collects it). ``make run`` is read by a person at a
    terminal: it keeps the details in ``DATA_DIR/wenling.log`` and shows only warnings and errors."""
    log_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=settings.log_level, format=log_format)
    # Sanic logs through the root logger (the app is built with configure_logging=False); the
    # state-machine chatter of the embedded broker is not news.
    for name in ("transitions", "amqtt"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if not demo:
        return None
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_file = settings.data_dir / "wenling.log"
    file_handler = logging.FileHandler(log_file, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter(log_format))
    root = logging.getLogger()
    root.addHandler(file_handler)
    for handler in root.handlers:
        if handler is not file_handler:
            handler.setLevel(logging.WARNING)
    return log_file


def run_tool(command: str, arguments: list[str]) -> int:
    """The commands for people at a terminal: quiet logs, their own arguments."""
    logging.basicConfig(level=logging.WARNING)
    if command == "evidence":
        # Offline verification must work on an auditor's machine: no settings, no database.
        from config.evidence_cli import main as evidence_main  # noqa: PLC0415

        return evidence_main(arguments)
    if command == "doctor":
        # The doctor reports unsafe production settings as findings instead of refusing to start.
        return doctor(Settings())
    return registry_main(load_settings(), arguments)


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] in (["evidence"], ["doctor"], ["registry"]):
        return run_tool(arguments[0], arguments[1:])
    parser = argparse.ArgumentParser(prog="python -m config")
    parser.add_argument("command", choices=["migrate", "makemigrations", "seed", "serve", "run", "worker"])
    parser.add_argument(
        "name", nargs="?", help="for `worker`: which worker to run alone (see config/workers.py)"
    )
    args, extra = parser.parse_known_args(argv)
    settings = load_settings()
    log_file = configure_logging(settings, demo=args.command == "run")
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
    if args.command == "run" and log_file is not None:
        print_banner(settings, log_file)
    if args.command in ("serve", "run"):
        try:
            serve(settings)
        except ConfigurationError as error:
            print(f"cannot serve: {error}", file=sys.stderr)
            return 2
    return 0
