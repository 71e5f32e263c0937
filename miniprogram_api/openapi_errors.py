"""The error body every endpoint answers with, declared once for the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sanic_ext import openapi

Handler = TypeVar("Handler", bound=Callable[..., Any])
ERROR_SCHEMA = {"application/json": {"code": str, "message": str}}


def error_responses(*statuses: int) -> Callable[[Handler], Handler]:
    """``@error_responses(400, 403, 404)``: one ``{"code","message"}`` response per status."""

    def document(handler: Handler) -> Handler:
        for status in statuses:
            handler = openapi.response(status, ERROR_SCHEMA)(handler)
        return handler

    return document
