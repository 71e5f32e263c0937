"""Typed access to what the composition root puts on ``app.ctx``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, cast

from sanic import Request

from adapters.infrastructure import Infrastructure
from adapters.media_store import MediaStore
from adapters.wechat.client import WeChatClient
from config.settings import Settings
from domain.approvals.access import ApprovalsEnv
from domain.projects.read_model import ProjectReadModelCache
from nlu.interface import NluEngine

Readiness = Callable[[], Awaitable[dict[str, str]]]


def settings_of(request: Request) -> Settings:
    return cast(Settings, request.app.ctx.settings)


def infra_of(request: Request) -> Infrastructure:
    return cast(Infrastructure, request.app.ctx.infra)


def readiness_of(request: Request) -> Readiness:
    return cast(Readiness, request.app.ctx.readiness)


class ApiRuntime(Protocol):
    """What the API takes from ``config.container.Runtime`` (doors sit below the composition root)."""

    approvals: ApprovalsEnv
    wechat: WeChatClient


def runtime_of(request: Request) -> ApiRuntime:
    return cast(ApiRuntime, request.app.ctx.runtime)


def nlu_of(request: Request) -> NluEngine:
    """The process's NLU engine, opened with the runtime."""
    return cast(NluEngine, request.app.ctx.nlu)


def project_read_model_of(request: Request) -> ProjectReadModelCache | None:
    """The warm projects read model, when ``PROJECT_READ_MODEL_TTL_S`` enables it."""
    return cast(ProjectReadModelCache | None, getattr(request.app.ctx, "project_read_model", None))


def media_of(request: Request) -> MediaStore:
    return cast(MediaStore, request.app.ctx.media)
