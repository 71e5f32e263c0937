"""Parsing of complaint requests: body fields, coordinates, times and enum query arguments, each
malformed value a 400 with a stable code."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from zoneinfo import ZoneInfo

from sanic import Request

from domain.errors import ValidationFailed
from domain.geo import gcj02_to_wgs84
from miniprogram_api.auth import json_body

SHANGHAI = ZoneInfo("Asia/Shanghai")


def body_text(body: dict[str, Any], name: str, *, max_length: int, required: bool = False) -> str:
    value = body.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > max_length:
        raise ValidationFailed(
            f"{name} must be a string of at most {max_length} characters", code="invalid_parameter"
        )
    if required and not value.strip():
        raise ValidationFailed(f"{name} is required", code="invalid_parameter")
    return value.strip()


def _coordinate(body: dict[str, Any], name: str, *, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise ValidationFailed(f"{name} must be a number", code="invalid_coordinates") from error
    if not math.isfinite(number) or not low <= number <= high:
        raise ValidationFailed(f"{name} is out of range", code="invalid_coordinates")
    return number


def location(body: dict[str, Any]) -> tuple[float | None, float | None]:
    """WGS-84 is stored; a Tencent-map (GCJ-02) point is converted here, at the edge."""
    lat = _coordinate(body, "lat", low=-90, high=90)
    lng = _coordinate(body, "lng", low=-180, high=180)
    coord_type = body_text(body, "coord_type", max_length=8).lower() or "wgs84"
    if coord_type not in ("wgs84", "gcj02"):
        raise ValidationFailed("coord_type is wgs84 or gcj02", code="invalid_coordinates")
    if lat is not None and lng is not None and coord_type == "gcj02":
        lat, lng = gcj02_to_wgs84(lat, lng)
    return lat, lng


def parse_time(value: str, name: str = "occurred_at") -> dt.datetime | None:
    """ISO 8601; a time without an offset is Asia/Shanghai (what citizens mean)."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as error:
        raise ValidationFailed(f"{name} must be an ISO 8601 time", code="invalid_time") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    if not 2000 <= moment.year <= 2100:
        raise ValidationFailed(f"{name} is out of range", code="invalid_time")
    return moment.astimezone(dt.UTC)


def request_fields(request: Request) -> dict[str, Any]:
    """JSON or multipart form fields, as one dict of strings/numbers."""
    if (request.content_type or "").startswith("multipart/form-data"):
        form: Any = request.form or {}
        return {key: form.get(key) for key in form}
    return json_body(request)
