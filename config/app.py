"""The Sanic app factory: one app, every blueprint, resources opened on start and closed on stop."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
from typing import Any

from sanic import Sanic
from sanic_ext import Extend

from config.container import Runtime, open_runtime, readiness
from config.settings import Settings
from config.workers import embedded_workers
from miniprogram_api.auth import auth
from miniprogram_api.errors import install_error_handlers
from miniprogram_api.health import health
from miniprogram_api.projects import projects

log = logging.getLogger(__name__)
_app_numbers = itertools.count(1)

MAX_BODY_BYTES = 12 * 1024 * 1024  # the biggest legitimate body: one 10 MB photo plus multipart overhead


def create_app(settings: Settings, *, name: str | None = None, run_workers: bool = False) -> Sanic[Any, Any]:
    # Sanic registers apps by name; tests build several, so each gets its own.
    app: Sanic[Any, Any] = Sanic(name or f"wenling_{next(_app_numbers)}")
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.OAS_URL_PREFIX = "/docs"
    app.config.OAS_UI_DEFAULT = "swagger"
    app.config.OAS_UI_REDOC = False
    app.config.OAS_AUTODOC = True
    app.config.CORS = False
    app.config.HEALTH = False
    Extend(app)
    app.ext.openapi.add_security_scheme("bearer", "http", scheme="bearer")
    app.ext.openapi.describe(
        "Wenling construction-management API",
        version="1.0.0",
        description="Projects, complaints, approvals, credit, alerts and emergencies for a county city.",
    )
    app.ctx.settings = settings
    app.ctx.services = {}

    async def readiness_check() -> dict[str, str]:
        return await readiness(settings)

    app.ctx.readiness = readiness_check

    @app.before_server_start
    async def open_resources(app: Sanic[Any, Any]) -> None:
        runtime = await open_runtime(settings)
        app.ctx.runtime = runtime
        app.ctx.infra = runtime.infra
        app.ctx.media = runtime.media
        app.ctx.started_at = dt.datetime.now(dt.UTC)
        log.info("started in %s mode (redis=%s)", settings.app_mode.value, runtime.infra.redis_backed)

    @app.after_server_start
    async def start_workers(app: Sanic[Any, Any]) -> None:
        # Keep references to the tasks: an unreferenced task may be garbage-collected mid-flight.
        app.ctx.worker_tasks = [
            asyncio.create_task(worker(app.ctx.runtime), name=name)
            for name, worker in (embedded_workers() if run_workers else [])
        ]

    @app.before_server_stop
    async def stop_workers(app: Sanic[Any, Any]) -> None:
        tasks: list[asyncio.Task[None]] = getattr(app.ctx, "worker_tasks", [])
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @app.after_server_stop
    async def close_resources(app: Sanic[Any, Any]) -> None:
        runtime: Runtime | None = getattr(app.ctx, "runtime", None)
        if runtime is not None:
            await runtime.close()

    install_error_handlers(app)
    app.blueprint(health)
    app.blueprint(auth)
    app.blueprint(projects)
    return app
