"""Parsing of query strings and form fields for console pages: bounded text, enums and page numbers,
refusing bad input with the same error codes as the API."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from sanic import Request

from domain.errors import ValidationFailed

E = TypeVar("E", bound=StrEnum)


def plain_text(value: str, name: str) -> str:
    """Control characters (NUL among them: PostgreSQL refuses it in text) and lone surrogates never
    reach a query or the database: a 400, not a 500. Line breaks and tabs are text."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValidationFailed(f"{name} is not valid text", code="invalid_parameter") from error
    if any((ord(ch) < 32 and ch not in "\r\n\t") or ord(ch) == 127 for ch in value):
        raise ValidationFailed(f"{name} contains control characters", code="invalid_parameter")
    return value


def arg_text(request: Request, name: str, *, max_length: int) -> str:
    value = (request.args.get(name) or "").strip()
    if len(value) > max_length:
        raise ValidationFailed(f"{name} is at most {max_length} characters", code="invalid_parameter")
    return plain_text(value, name)


def arg_enum(request: Request, name: str, kind: type[E]) -> E | None:
    value = arg_text(request, name, max_length=32)
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise ValidationFailed(f"unknown {name} {value!r}", code="invalid_parameter") from None


def arg_int(request: Request, name: str, *, default: int, low: int, high: int) -> int:
    value = arg_text(request, name, max_length=8)
    if not value:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise ValidationFailed(f"{name} must be a number {low}..{high}", code="invalid_parameter")
    return int(value)


def form_text(request: Request, name: str, *, max_length: int, required: bool = False) -> str:
    form: Any = request.form or {}
    value = str(form.get(name) or "").strip()
    if required and not value:
        raise ValidationFailed(f"{name} is required", code="missing_field")
    if len(value) > max_length:
        raise ValidationFailed(f"{name} is at most {max_length} characters", code="field_too_long")
    return plain_text(value, name)
