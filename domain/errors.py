"""Domain errors carry a stable ``code``; the API maps them to HTTP, the bot to a Chinese sentence."""

from __future__ import annotations

from http import HTTPStatus


class DomainError(Exception):
    """Base class: ``code`` is stable and machine-readable, ``status`` is the HTTP status it maps to."""

    code: str = "domain_error"
    status: int = HTTPStatus.BAD_REQUEST

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ValidationFailed(DomainError):
    code = "invalid_input"
    status = HTTPStatus.BAD_REQUEST

    def __init__(self, message: str, *, code: str | None = None, problems: list[str] | None = None) -> None:
        super().__init__(message, code=code)
        self.problems = problems or []


class NotFound(DomainError):
    code = "not_found"
    status = HTTPStatus.NOT_FOUND


class Conflict(DomainError):
    code = "conflict"
    status = HTTPStatus.CONFLICT


class Forbidden(DomainError):
    code = "forbidden"
    status = HTTPStatus.FORBIDDEN


class Unauthorized(DomainError):
    code = "unauthorized"
    status = HTTPStatus.UNAUTHORIZED
