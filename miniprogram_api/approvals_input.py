"""What the approvals routes accept: application codes and material keys in paths, JSON bodies, query
dates, and multipart files turned into uploads (images decoded off the event loop)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

from sanic import Request

from adapters.uploads import sniff_type, validate_image
from domain.approvals import services
from domain.approvals.rules import is_application_code
from domain.calendar.rules import SHANGHAI
from domain.errors import NotFound, ValidationFailed
from miniprogram_api.params import text_arg

MATERIAL_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


def is_clean(value: str) -> bool:
    # NUL and other control characters are refused here: PostgreSQL rejects NUL in text and JSON.
    return not any(ord(ch) < 32 and ch not in "\n\t" for ch in value)


def text_field(body: dict[str, Any], name: str, *, max_length: int, required: bool = True) -> str:
    value = body.get(name, "")
    if (
        not isinstance(value, str)
        or len(value) > max_length
        or (required and not value.strip())
        or not is_clean(value)
    ):
        raise ValidationFailed(
            f"{name} must be a string of 1 to {max_length} characters", code="invalid_parameter"
        )
    return value


def application_code(code: str) -> str:
    """Anything that is not an application code cannot name one: 404 without touching the database."""
    code = code.strip().upper()
    if not is_application_code(code) or len(code) > 16:
        raise NotFound("no such application", code="application_not_found")
    return code


def material_key(key: str) -> str:
    if not MATERIAL_KEY_RE.match(key):
        raise NotFound("no such material", code="material_not_found")
    return key


def form_fields(body: dict[str, Any]) -> dict[str, Any]:
    fields = body.get("fields", {})
    if not isinstance(fields, dict) or not all(is_clean(v) for v in fields.values() if isinstance(v, str)):
        raise ValidationFailed("fields must be an object of plain values", code="invalid_fields")
    return fields


async def upload_of(key: str, file: Any, *, max_bytes: int, max_pixels: int) -> services.Upload:
    data: bytes = file.body
    kind = sniff_type(data)
    problem = ""
    if kind in ("jpeg", "png") and 0 < len(data) <= max_bytes:
        try:
            # Decoding is CPU work on untrusted input: off the event loop, under the pixel limit.
            await asyncio.to_thread(validate_image, data, max_bytes=max_bytes, max_pixels=max_pixels)
        except ValidationFailed as error:
            problem = f"{error.code}: {error.message}"
    return services.Upload(
        key=key[:48],
        filename=safe_filename(file.name or ""),
        data=data,
        sniffed_kind=kind,
        decode_problem=problem,
    )


def safe_filename(name: str) -> str:
    return "".join(ch for ch in name if ord(ch) >= 32)[:200]


def date_arg(request: Request, name: str, *, default: dt.date) -> dt.datetime:
    """A Shanghai calendar day from the query string, as the UTC instant of its midnight."""
    raw_value = text_arg(request, name, max_length=10)
    try:
        day = dt.date.fromisoformat(raw_value) if raw_value else default
    except ValueError as error:
        raise ValidationFailed(f"{name} must be YYYY-MM-DD", code="invalid_parameter") from error
    if not 2000 <= day.year <= 2100:
        raise ValidationFailed(f"{name} must be a date between 2000 and 2100", code="invalid_parameter")
    return dt.datetime.combine(day, dt.time(0), tzinfo=SHANGHAI).astimezone(dt.UTC)
