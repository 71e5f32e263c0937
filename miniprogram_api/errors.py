"""One error handler for the whole HTTP surface: every failure is ``{"code", "message"}``.

Domain errors carry their status; Sanic's own (404, 405, 413, broken JSON) keep theirs; anything
unexpected is logged with its traceback and answered 500 without internals.
"""

from __future__ import annotations

import logging

from sanic import Request, Sanic
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse, json

from domain.errors import DomainError, ValidationFailed

log = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str, **extra: object) -> HTTPResponse:
    return json({"code": code, "message": message, **extra}, status=status)


def _sanic_code(error: SanicException) -> str:
    name = type(error).__name__
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in name).lstrip("_")


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

    @app.exception(Exception)
    async def on_unexpected(request: Request, error: Exception) -> HTTPResponse:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "internal error")
