"""Typed access to what the composition root puts on ``app.ctx``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from sanic import Request

from adapters.infrastructure import Infrastructure
from adapters.media_store import MediaStore
from config.settings import Settings

Readiness = Callable[[], Awaitable[dict[str, str]]]


def settings_of(request: Request) -> Settings:
    return cast(Settings, request.app.ctx.settings)


def infra_of(request: Request) -> Infrastructure:
    return cast(Infrastructure, request.app.ctx.infra)


def readiness_of(request: Request) -> Readiness:
    return cast(Readiness, request.app.ctx.readiness)


def service(request: Request, name: str) -> Any:
    """A service object registered by the composition root under ``app.ctx.services[name]``."""
    return request.app.ctx.services[name]


def media_of(request: Request) -> MediaStore:
    return cast(MediaStore, request.app.ctx.media)
