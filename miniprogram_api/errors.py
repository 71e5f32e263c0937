"""One error handler for the whole HTTP surface: every failure is ``{"code", "message"}``.

Domain errors carry their status; Sanic's own (404, 405, 413, broken JSON) keep theirs; anything
unexpected is logged with its traceback and answered 500 without internals.
"""

from __future__ import annotations

import logging

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sanic import Request, Sanic
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse, json
from tortoise.exceptions import DBConnectionError

from domain.errors import DomainError, ValidationFailed

log = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str, **extra: object) -> HTTPResponse:
    return json({"code": code, "message": message, **extra}, status=status)


def _sanic_code(error: SanicException) -> str:
    name = type(error).__name__
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in name).lstrip("_")


STORAGE_RETRY_AFTER_S = 5


def install_error_handlers(app: Sanic) -> None:  # type: ignore[type-arg]
    @app.exception(DomainError)
    async def on_domain_error(request: Request, error: DomainError) -> HTTPResponse:
        extra: dict[str, object] = {}
        if isinstance(error, ValidationFailed) and error.problems:
            extra["problems"] = error.problems
        return error_response(int(error.status), error.code, error.message, **extra)

    @app.exception(SanicException)
    async def on_sanic_error(request: Request, error: SanicException) -> HTTPResponse:
        status = int(getattr(error, "status_code", 500) or 500)
        if status >= 500:
            log.exception("server error on %s %s", request.method, request.path)
            return error_response(status, "internal_error", "internal error")
        return error_response(status, _sanic_code(error), str(error) or "bad request")

    @app.exception(RedisConnectionError, RedisTimeoutError, DBConnectionError)
    async def on_storage_unreachable(request: Request, error: Exception) -> HTTPResponse:
        # Redis or the database still down after the client's own retries: a clear 503 that says when
        # to come back (WeChat and the mini-program retry), not a 500 that reads like a bug.
        log.warning("storage unreachable on %s %s: %s", request.method, request.path, type(error).__name__)
        response = error_response(503, "storage_unavailable", "服务暂时不可用，请稍后再试")
        response.headers["Retry-After"] = str(STORAGE_RETRY_AFTER_S)
        return response

    @app.exception(Exception)
    async def on_unexpected(request: Request, error: Exception) -> HTTPResponse:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "internal error")
