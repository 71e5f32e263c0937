"""Parsing of credit requests: the as-of date, decisions, notes, route ids and subject kinds, each
malformed value a 400 (or, for ids out of the database's range, a 404) with a stable code."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sanic import Request

from domain.credit import services
from domain.credit.rules import AppealAction, RecordAction, SubjectKind
from domain.errors import NotFound, ValidationFailed
from miniprogram_api.params import text_arg

MAX_NOTE = 2000
MAX_DB_ID = 2**31 - 1


def as_of_arg(request: Request) -> dt.date:
    raw_value = text_arg(request, "as_of", max_length=10)
    if not raw_value:
        return services.local_day(dt.datetime.now(dt.UTC))
    try:
        day = dt.date.fromisoformat(raw_value)
    except ValueError as error:
        raise ValidationFailed("as_of must be a YYYY-MM-DD date", code="invalid_parameter") from error
    if not dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31):
        raise ValidationFailed("as_of must be between 2000 and 2100", code="invalid_parameter")
    return day


def choice(value: Any, allowed: type[RecordAction] | type[AppealAction], name: str) -> Any:
    try:
        return allowed(str(value))
    except ValueError as error:
        options = "|".join(member.value for member in allowed)
        raise ValidationFailed(f"{name} must be one of {options}", code="invalid_decision") from error


def note_field(body: dict[str, Any]) -> str:
    note = body.get("note", "")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise ValidationFailed(f"note must be a string of at most {MAX_NOTE} characters", code="invalid_note")
    return note


def db_id(value: int, what: str) -> int:
    """Route ids beyond the database's integer range are simply unknown (never a driver error)."""
    if not 1 <= value <= MAX_DB_ID:
        raise NotFound(f"no {what} {value}", code=f"credit_{what}_not_found")
    return value


def parse_subject_kind(value: str) -> SubjectKind:
    try:
        return SubjectKind(value)
    except ValueError as error:
        raise ValidationFailed("kind must be enterprise|person|project", code="invalid_parameter") from error
