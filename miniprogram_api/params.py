"""Query-string parsing that turns every malformed value into a 400 with a clear message."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import TypeVar

from sanic import Request

from domain.errors import ValidationFailed
from domain.geo import gcj02_to_wgs84

Choice = TypeVar("Choice", bound=StrEnum)


def text_arg(request: Request, name: str, *, max_length: int = 64) -> str:
    value = (request.args.get(name) or "").strip()
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValidationFailed(f"{name} is not valid text", code="invalid_parameter") from error
    if len(value) > max_length:
        raise ValidationFailed(f"{name} is limited to {max_length} characters", code="invalid_parameter")
    if any(ord(ch) < 32 for ch in value):
        raise ValidationFailed(f"{name} contains control characters", code="invalid_parameter")
    return value


def int_arg(request: Request, name: str, *, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise ValidationFailed(f"{name} must be an integer", code="invalid_parameter") from error
    if not low <= value <= high:
        raise ValidationFailed(f"{name} must be between {low} and {high}", code="invalid_parameter")
    return value


def float_arg(request: Request, name: str, *, default: float, low: float, high: float) -> float:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as error:
        raise ValidationFailed(f"{name} must be a number", code="invalid_parameter") from error
    if not math.isfinite(value) or not low <= value <= high:
        raise ValidationFailed(f"{name} must be between {low} and {high}", code="invalid_parameter")
    return value


def latlng_arg(request: Request, name: str) -> tuple[float, float] | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    parts = raw.split(",")
    try:
        lat, lng = (float(part) for part in parts)
    except ValueError as error:
        raise ValidationFailed(
            f"{name} must be '<lat>,<lng>' in WGS-84", code="invalid_coordinates"
        ) from error
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        raise ValidationFailed(f"{name} is out of range for WGS-84", code="invalid_coordinates")
    return lat, lng


def datum_point(request: Request, name: str) -> tuple[float, float] | None:
    """``name`` as WGS-84, the datum stored everywhere. ``coord_type=gcj02`` says the point is a
    Tencent-map one (``wx.getLocation({type: 'gcj02'})``, ``wx.chooseLocation``); the default, wgs84,
    is what ``wx.getLocation`` returns without a type. Converted once, here, at the door."""
    point = latlng_arg(request, name)
    coord_type = (request.args.get("coord_type") or "wgs84").strip().lower()
    if coord_type not in ("wgs84", "gcj02"):
        raise ValidationFailed("coord_type is wgs84 or gcj02", code="invalid_coordinates")
    return gcj02_to_wgs84(*point) if point is not None and coord_type == "gcj02" else point


def body_text(body: dict[str, object], name: str, *, max_length: int, required: bool = True) -> str:
    """A string field of a JSON body: present, not too long, valid UTF-8 (no lone surrogates), printable."""
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValidationFailed(f"{name} must be a non-empty string", code="invalid_parameter")
    if len(value) > max_length:
        raise ValidationFailed(f"{name} is limited to {max_length} characters", code="invalid_parameter")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValidationFailed(f"{name} is not valid text", code="invalid_parameter") from error
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        raise ValidationFailed(f"{name} contains control characters", code="invalid_parameter")
    return value


def enum_arg(request: Request, name: str, enum: type[Choice]) -> Choice | None:
    """An optional query filter that must be one of ``enum``'s values (400 listing them otherwise)."""
    raw = text_arg(request, name, max_length=16)
    if not raw:
        return None
    try:
        return enum(raw)
    except ValueError as error:
        options = "|".join(member.value for member in enum)
        raise ValidationFailed(f"{name} must be one of {options}", code="invalid_parameter") from error
