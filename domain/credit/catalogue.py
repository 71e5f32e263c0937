"""The credit rule catalogue (``config/credit_rules.yml``): record types with their points and validity,
grade bands, the blacklist grade, sanctions and which events become which records. Pure: the
services read the file and hand its mapping to ``parse_catalogue``."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from domain.errors import ValidationFailed


class Category(StrEnum):
    INSPECTION = "inspection"
    COMPLAINT = "complaint"
    SAFETY_VIOLATION = "safety_violation"
    DUST_PENALTY = "dust_penalty"
    NOISE_PENALTY = "noise_penalty"
    CONTRACT_PERFORMANCE = "contract_performance"
    AWARD = "award"


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months, clamped to the month's last day (Jan 31 + 1 month = Feb 28/29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


@dataclass(frozen=True, slots=True)
class RecordType:
    key: str
    category: Category
    points: int
    label: str
    validity_months: int = 0  # 0: the catalogue default for its sign


@dataclass(frozen=True, slots=True)
class GradeBand:
    grade: str
    min_score: float | None  # None: the lowest band
    label: str


@dataclass(frozen=True, slots=True)
class SanctionRule:
    name: str
    record_type: str
    count: int
    duration_months: int
    blacklist: bool
    label: str


@dataclass(frozen=True, slots=True)
class EventRule:
    record_type: str
    needs_review: bool


@dataclass(frozen=True, slots=True)
class Catalogue:
    base_score: int
    good_validity_months: int
    bad_min_months: int
    bad_max_months: int
    grades: tuple[GradeBand, ...]
    blacklist_grade: GradeBand
    record_types: Mapping[str, RecordType]
    events: Mapping[str, EventRule] = field(default_factory=dict)
    sanctions: tuple[SanctionRule, ...] = ()

    def record_type(self, key: str) -> RecordType:
        found = self.record_types.get(key)
        if found is None:
            raise ValidationFailed(f"unknown record type {key!r}", code="unknown_record_type")
        return found

    def validity_months(self, record_type: RecordType, *, penalty_months: int = 0) -> int:
        """Good records: the good validity. Bad ones: clamped, but never shorter than the penalty."""
        if record_type.points >= 0:
            return self.good_validity_months
        wanted = record_type.validity_months or self.bad_min_months
        return max(min(max(wanted, self.bad_min_months), self.bad_max_months), penalty_months)

    def expiry(self, record_type: RecordType, effective_on: dt.date, *, penalty_months: int = 0) -> dt.date:
        return add_months(effective_on, self.validity_months(record_type, penalty_months=penalty_months))


def _int(data: Mapping[str, Any], key: str, *, low: int = 0) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValidationFailed(f"catalogue: {key} must be an integer >= {low}", code="invalid_catalogue")
    return value


def _grades(raw: Sequence[Mapping[str, Any]]) -> tuple[GradeBand, ...]:
    bands = tuple(GradeBand(str(b["grade"]), b.get("min_score"), str(b.get("label", ""))) for b in raw)
    floors = [band.min_score for band in bands]
    if not bands or floors[-1] is not None or None in floors[:-1]:
        raise ValidationFailed(
            "catalogue: grades need floors, best first, last without", code="invalid_catalogue"
        )
    numeric = [float(f) for f in floors[:-1] if f is not None]
    if numeric != sorted(numeric, reverse=True) or len(set(numeric)) != len(numeric):
        raise ValidationFailed("catalogue: grade floors must strictly decrease", code="invalid_catalogue")
    return bands


def parse_catalogue(data: Mapping[str, Any]) -> Catalogue:
    """Validate the YAML mapping of ``config/credit_rules.yml`` into a catalogue."""
    try:
        catalogue = _build_catalogue(data)
    except (KeyError, TypeError, ValueError) as error:
        raise ValidationFailed(f"catalogue: {error}", code="invalid_catalogue") from error
    if catalogue.bad_min_months > catalogue.bad_max_months:
        raise ValidationFailed("catalogue: bad validity min exceeds max", code="invalid_catalogue")
    referenced = [rule.record_type for rule in catalogue.events.values()] + [
        s.record_type for s in catalogue.sanctions
    ]
    for key in referenced:
        catalogue.record_type(key)
    return catalogue


def _build_catalogue(data: Mapping[str, Any]) -> Catalogue:
    """Missing or mistyped keys raise KeyError/TypeError/ValueError, which ``parse_catalogue`` reports."""
    record_types = _record_types(data["record_types"])
    bad = dict(data["bad_validity_months"])
    return Catalogue(
        base_score=_int(data, "base_score"),
        good_validity_months=_int(data, "good_validity_months", low=1),
        bad_min_months=_int(bad, "min", low=1),
        bad_max_months=_int(bad, "max", low=1),
        grades=_grades(data["grades"]),
        blacklist_grade=GradeBand(
            str(data["blacklist_grade"]["grade"]), None, str(data["blacklist_grade"]["label"])
        ),
        record_types=record_types,
        events={
            name: EventRule(str(spec["record_type"]), bool(spec.get("needs_review", True)))
            for name, spec in dict(data.get("events") or {}).items()
        },
        sanctions=_sanctions(data.get("sanctions") or ()),
    )


def _record_types(raw: Any) -> dict[str, RecordType]:
    return {
        key: RecordType(
            key=key,
            category=Category(spec["category"]),
            points=int(spec["points"]),
            label=str(spec.get("label", key)),
            validity_months=int(spec.get("validity_months", 0)),
        )
        for key, spec in dict(raw).items()
    }


def _sanctions(raw: Any) -> tuple[SanctionRule, ...]:
    return tuple(
        SanctionRule(
            name=str(spec["name"]),
            record_type=str(spec["record_type"]),
            count=int(spec["count"]),
            duration_months=int(spec["duration_months"]),
            blacklist=bool(spec.get("blacklist", False)),
            label=str(spec.get("label", spec["name"])),
        )
        for spec in raw
    )
