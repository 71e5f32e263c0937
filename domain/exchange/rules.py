"""Pure rules of the data exchange: the feed catalogue, row validation, signatures and timestamps."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from domain.projects.rules import PROJECT_CODE_RE, USCC_RE, uscc_check_char

MAX_TEXT = 500


class FieldType(StrEnum):
    TEXT = "text"
    DATE = "date"
    NUMBER = "number"
    INTEGER = "integer"
    CHOICE = "choice"
    USCC = "uscc"
    PROJECT_CODE = "project_code"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: FieldType
    required: bool = False
    max_length: int = MAX_TEXT
    values: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True, slots=True)
class CreditMapping:
    subject_field: str
    name_field: str
    date_field: str
    type_field: str
    record_types: Mapping[str, str]
    needs_review: bool


@dataclass(frozen=True, slots=True)
class FeedSpec:
    key: str
    label: str
    departments: frozenset[str]
    updates: str
    key_fields: tuple[str, ...]
    fields: Mapping[str, FieldSpec]
    credit: CreditMapping | None = None


@dataclass(frozen=True, slots=True)
class WebhookPolicy:
    max_attempts: int = 8
    first_retry_s: float = 10
    max_retry_s: float = 3600
    timeout_s: float = 5


@dataclass(frozen=True, slots=True)
class ExchangeConfig:
    feeds: Mapping[str, FeedSpec]
    timestamp_tolerance_s: int = 300
    max_records_per_batch: int = 5000
    topic_prefix: str = "wenling/city"
    outbound_events: tuple[str, ...] = ()
    webhook: WebhookPolicy = field(default_factory=WebhookPolicy)


class FeedCatalogueInvalid(ValueError):
    """``config/feeds.yml`` does not describe usable feeds."""


def _field(name: str, raw: Mapping[str, Any]) -> FieldSpec:
    try:
        kind = FieldType(raw["type"])
    except (KeyError, ValueError) as error:
        raise FeedCatalogueInvalid(f"field {name}: unknown type {raw.get('type')!r}") from error
    values = tuple(str(v) for v in raw.get("values", ()))
    if kind is FieldType.CHOICE and not values:
        raise FeedCatalogueInvalid(f"field {name}: a choice needs values")
    return FieldSpec(
        name,
        kind,
        bool(raw.get("required", False)),
        int(raw.get("max_length", MAX_TEXT)),
        values,
        raw.get("min"),
        raw.get("max"),
    )


def _feed(key: str, raw: Mapping[str, Any]) -> FeedSpec:
    fields = {name: _field(name, spec) for name, spec in (raw.get("fields") or {}).items()}
    key_fields = tuple(raw.get("key") or ())
    if not key_fields or any(k not in fields or not fields[k].required for k in key_fields):
        raise FeedCatalogueInvalid(f"feed {key}: key fields must be declared and required")
    credit = raw.get("credit")
    mapping = None
    if credit:
        mapping = CreditMapping(
            credit["subject_field"],
            credit["name_field"],
            credit["date_field"],
            credit["type_field"],
            dict(credit.get("record_types") or {}),
            bool(credit.get("needs_review", True)),
        )
        if any(f not in fields for f in (mapping.subject_field, mapping.date_field, mapping.type_field)):
            raise FeedCatalogueInvalid(f"feed {key}: credit mapping names an unknown field")
    return FeedSpec(
        key,
        str(raw.get("label", key)),
        frozenset(raw.get("departments") or ()),
        str(raw.get("updates", "exchange")),
        key_fields,
        fields,
        mapping,
    )


def parse_config(document: Mapping[str, Any]) -> ExchangeConfig:
    feeds = {key: _feed(key, raw) for key, raw in (document.get("feeds") or {}).items()}
    outbound = document.get("outbound") or {}
    hook = outbound.get("webhook") or {}
    return ExchangeConfig(
        feeds=feeds,
        timestamp_tolerance_s=int(document.get("timestamp_tolerance_s", 300)),
        max_records_per_batch=int(document.get("max_records_per_batch", 5000)),
        topic_prefix=str(outbound.get("topic_prefix", "wenling/city")),
        outbound_events=tuple(outbound.get("events") or ()),
        webhook=WebhookPolicy(
            int(hook.get("max_attempts", 8)),
            float(hook.get("first_retry_s", 10)),
            float(hook.get("max_retry_s", 3600)),
            float(hook.get("timeout_s", 5)),
        ),
    )


# --- rows ---------------------------------------------------------------------------------------


def _number(spec: FieldSpec, value: Any, *, integer: bool) -> tuple[float | int | None, str | None]:
    if isinstance(value, bool):
        return None, f"{spec.name}: not a number"
    try:
        number = float(str(value).strip()) if not isinstance(value, int | float) else float(value)
    except ValueError:
        return None, f"{spec.name}: not a number"
    if not math.isfinite(number) or (integer and number != int(number)):
        return None, f"{spec.name}: not {'an integer' if integer else 'a finite number'}"
    if (spec.low is not None and number < spec.low) or (spec.high is not None and number > spec.high):
        return None, f"{spec.name}: out of range"
    return (int(number) if integer else number), None


def _clean(spec: FieldSpec, value: Any) -> tuple[Any, str | None]:  # noqa: PLR0911 - one branch per type
    if spec.type is FieldType.NUMBER:
        return _number(spec, value, integer=False)
    if spec.type is FieldType.INTEGER:
        return _number(spec, value, integer=True)
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None, f"{spec.name}: must be text"
    text = str(value).strip()
    if spec.type is FieldType.DATE:
        try:
            return dt.date.fromisoformat(text[:10]).isoformat(), None
        except ValueError:
            return None, f"{spec.name}: not a YYYY-MM-DD date"
    if spec.type is FieldType.CHOICE:
        return (
            (text, None)
            if text in spec.values
            else (None, f"{spec.name}: must be one of {'|'.join(spec.values)}")
        )
    if spec.type is FieldType.USCC:
        text = text.upper()
        ok = USCC_RE.match(text) is not None and uscc_check_char(text[:17]) == text[17]
        return (text, None) if ok else (None, f"{spec.name}: not a valid unified social credit code")
    if spec.type is FieldType.PROJECT_CODE:
        return (
            (text, None)
            if PROJECT_CODE_RE.match(text)
            else (None, f"{spec.name}: not a project code like WL-2026-0031")
        )
    if len(text) > spec.max_length or any(ord(ch) < 32 for ch in text):
        return None, f"{spec.name}: longer than {spec.max_length} characters or has control characters"
    return text, None


def validate_row(feed: FeedSpec, row: Any) -> tuple[dict[str, Any], list[str]]:
    """The cleaned record and the list of problems (empty when the row is accepted)."""
    if not isinstance(row, Mapping):
        return {}, ["record must be an object"]
    problems = [f"{name}: unknown field" for name in row if name not in feed.fields]
    clean: dict[str, Any] = {}
    for name, spec in feed.fields.items():
        value = row.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.required:
                problems.append(f"{name}: required")
            continue
        cleaned, problem = _clean(spec, value)
        if problem:
            problems.append(problem)
        else:
            clean[name] = cleaned
    return clean, problems


def record_key(feed: FeedSpec, clean: Mapping[str, Any]) -> str:
    return "|".join(str(clean[name]) for name in feed.key_fields)


def content_hash(clean: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(clean, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# --- signatures ---------------------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """hex HMAC-SHA256 over ``<timestamp>.<body>``: binding the time stops replays of old bodies."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_ok(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature.strip().lower())


# --- sealed secrets -----------------------------------------------------------------------------
# HMAC needs the shared secret itself on both sides, so it cannot be stored hashed. Instead the
# database keeps a random reference and the secret is derived from it with the server's SECRET_KEY:
# a copy of the database alone signs nothing. Rotating SECRET_KEY therefore re-keys every partner
# and webhook subscriber (they are issued new secrets).
SEALED_PREFIX = "v2:"


def new_sealed_reference() -> str:
    """What the database stores for a new secret (fits the 64-character column)."""
    return SEALED_PREFIX + secrets.token_urlsafe(24)


def unseal(stored: str, *, master_key: bytes) -> str:
    """The signing secret behind a stored reference. Rows issued before sealing hold the secret
    itself and keep working until they are re-issued."""
    if not stored.startswith(SEALED_PREFIX):
        return stored
    digest = hmac.new(master_key, b"wl-exchange-secret:" + stored.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def timestamp_ok(timestamp: str, *, now: dt.datetime, tolerance_s: int) -> bool:
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    return abs(now.timestamp() - int(timestamp)) <= tolerance_s


def retry_delay_s(attempts: int, policy: WebhookPolicy) -> float:
    """Exponential backoff after ``attempts`` failed tries."""
    return float(min(policy.max_retry_s, policy.first_retry_s * 2 ** max(0, attempts - 1)))


def rows_as_records(rows: Sequence[Sequence[str]]) -> list[dict[str, str]]:
    """CSV/XLSX rows (first row: field names) to records; blank lines are skipped."""
    if not rows:
        return []
    header = [str(name).strip() for name in rows[0]]
    return [
        {name: cell for name, cell in zip(header, row, strict=False) if name and str(cell).strip()}
        for row in rows[1:]
        if any(str(cell).strip() for cell in row)
    ]
