"""The Sanic app factory: one app, every blueprint, resources opened on start and closed on stop."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import itertools
import json
import logging
from typing import Any

from sanic import Sanic
from sanic_ext import Extend

from bot.dialogue.types import BotHooks
from bot.dialogues.alerts import bind_hook as alerts_bind_hook
from bot.webhook import wechat as wechat_callback
from config.container import Runtime, open_runtime, readiness
from config.evidence import evidence_config
from config.faq import load_faq
from config.head_routes import add_head_routes
from config.settings import Settings
from config.workers import embedded_workers
from console import PAGE_BLUEPRINTS
from console.docs import configure_docs
from console.templating import build_templates
from domain.emergency import services as emergency
from domain.projects.services import gazetteer_names, project_read_model_cache
from miniprogram_api.admin_outbox import admin_outbox
from miniprogram_api.alerts_api import alerts, environment
from miniprogram_api.approvals_api import approvals
from miniprogram_api.auth import auth
from miniprogram_api.cameras_api import cameras
from miniprogram_api.complaints_api import complaints
from miniprogram_api.credit_api import credit
from miniprogram_api.duty_roster import duty_roster
from miniprogram_api.emergency_api import emergency_bp
from miniprogram_api.errors import install_error_handlers
from miniprogram_api.evidence_api import evidence_log, evidence_staff
from miniprogram_api.exchange_api import exchange
from miniprogram_api.health import health
from miniprogram_api.iot_api import iot
from miniprogram_api.nlu_api import nlu_api
from miniprogram_api.open311 import open311
from miniprogram_api.permits_api import permits
from miniprogram_api.projects import projects
from miniprogram_api.registry_api import registry_api
from miniprogram_api.reports_api import report_static, reports, transparency
from miniprogram_api.staff_conversations import staff_conversations
from miniprogram_api.wxa_login import wxa_login
from nlu import build_engine, refresh_gazetteer

log = logging.getLogger(__name__)
_app_numbers = itertools.count(1)

# Chinese stays readable in every JSON body (a staff member with curl reads 万昌, not \u4e07\u660c).
json_dumps = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))

MAX_BODY_BYTES = 12 * 1024 * 1024  # the biggest legitimate body: one 10 MB photo plus multipart overhead


def create_app(settings: Settings, *, name: str | None = None, run_workers: bool = False) -> Sanic[Any, Any]:
    # Sanic registers apps by name; tests build several, so each gets its own.
    app: Sanic[Any, Any] = Sanic(
        name or f"wenling_{next(_app_numbers)}", dumps=json_dumps, configure_logging=False
    )
    _configure(app)
    app.ctx.settings = settings
    app.ctx.evidence = evidence_config(settings)
    app.ctx.console_templates = build_templates()
    app.ctx.bot_hooks = BotHooks(
        bind_site=alerts_bind_hook,
        # Rule and procedure questions answered from config/faq.yml (bot/dialogues/faq.py).
        faq=load_faq(),
    )

    async def readiness_check() -> dict[str, str]:
        return await readiness(settings)

    app.ctx.readiness = readiness_check
    _install_listeners(app, settings, run_workers=run_workers)
    install_error_handlers(app)
    for blueprint in BLUEPRINTS:
        app.blueprint(blueprint)
    add_head_routes(app)
    return app


BLUEPRINTS = (
    health, auth, wxa_login, projects, wechat_callback, nlu_api, staff_conversations, admin_outbox,
    complaints, open311, permits, approvals, credit, alerts, environment, cameras, emergency_bp,
    reports, transparency, report_static, exchange, registry_api, duty_roster, evidence_log,
    evidence_staff, iot, *PAGE_BLUEPRINTS,
)  # fmt: skip


def _configure(app: Sanic[Any, Any]) -> None:
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.OAS_URL_PREFIX = "/docs"
    app.config.OAS_UI_DEFAULT = "swagger"
    app.config.OAS_UI_REDOC = False
    app.config.OAS_AUTODOC = True
    app.config.CORS = False
    app.config.HTTP_AUTO_HEAD = False
    app.config.HTTP_AUTO_OPTIONS = False
    configure_docs(app.config)
    app.config.HEALTH = False
    Extend(app)
    app.ext.openapi.add_security_scheme("bearer", "http", scheme="bearer")
    app.ext.openapi.describe(
        "Wenling construction-management API",
        version="1.0.0",
        description="Projects, complaints, approvals, credit, alerts and emergencies for a county city.",
    )


WORKER_STOP_TIMEOUT_S = 20.0


def _install_listeners(app: Sanic[Any, Any], settings: Settings, *, run_workers: bool) -> None:
    @app.before_server_start
    async def open_resources(app: Sanic[Any, Any]) -> None:
        runtime = await open_runtime(settings)
        app.ctx.runtime = runtime
        app.ctx.infra = runtime.infra
        app.ctx.media = runtime.media
        app.ctx.started_at = dt.datetime.now(dt.UTC)
        # The registry of rescue resources lives in the database; the geo index is rebuilt from it.
        await emergency.index_resources(runtime.infra.geo)
        if settings.project_read_model_ttl_s > 0:
            read_model = project_read_model_cache(ttl_s=settings.project_read_model_ttl_s)
            # Built before the first request, not by it: at 10,000 projects the first build took
            # ~150 ms, which the benchmark saw as the nearby search's p99.
            await read_model.current()
            app.ctx.project_read_model = read_model
        app.ctx.nlu = await _open_nlu(settings, runtime)
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
        if tasks:  # bounded: a worker that ignores its cancellation must not hold the stop for ever
            _done, stuck = await asyncio.wait(tasks, timeout=WORKER_STOP_TIMEOUT_S)
            for task in stuck:
                log.error("embedded worker %s did not stop in %.0f s", task.get_name(), WORKER_STOP_TIMEOUT_S)

    @app.after_server_stop
    async def close_resources(app: Sanic[Any, Any]) -> None:
        runtime: Runtime | None = getattr(app.ctx, "runtime", None)
        if runtime is not None:
            await runtime.close()


async def _open_nlu(settings: Settings, runtime: Runtime) -> Any:
    """The NLU engine (trained or loaded from cache off the loop), fed project/enterprise/road names;
    the Rasa backend's HTTP client closes with the runtime."""
    engine = await asyncio.to_thread(
        build_engine,
        backend=settings.nlu_backend.value,
        data_dir=settings.data_dir,
        fallback_threshold=settings.nlu_fallback_threshold,
        rasa_url=settings.rasa_url,
        rasa_token=settings.rasa_token.get_secret_value(),
        rasa_timeout_s=settings.rasa_timeout_s,
    )
    await refresh_gazetteer(engine, **await gazetteer_names())
    closer = getattr(engine, "aclose", None)
    if closer is not None:
        runtime.closers.append(closer)
    return engine
