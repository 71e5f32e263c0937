"""Pure SLA rules of complaints: the policy read from ``config/complaints.yml`` (categories, nuisance
types, routing and duplicate settings) and the clocks: working days on the shared calendar, or hours
for urgent night noise, with due-soon and overdue bands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from domain.errors import ValidationFailed

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class Category:
    name: str
    label: str
    working_days: int | None = None
    hours: float | None = None
    # An hours clock meant for the night (urgent night noise): filed in the daytime, the ticket runs on
    # ``daytime_category`` instead (a morning report about last night is not a 2-hour emergency).
    night_only: bool = False
    daytime_category: str = ""


@dataclass(frozen=True, slots=True)
class NuisanceType:
    code: str
    label: str
    description: str
    category: str
    department: str
    no_site_department: str


@dataclass(frozen=True, slots=True)
class Policy:
    categories: Mapping[str, Category]
    nuisance_types: Mapping[str, NuisanceType]
    due_soon_fraction: float = 0.25
    dispatch_radius_m: float = 500
    town_radius_m: float = 5000
    duplicate_window: dt.timedelta = dt.timedelta(hours=2)
    duplicate_distance_m: float = 300
    reopen_days: int = 7
    night_start: dt.time = dt.time(22, 0)
    night_end: dt.time = dt.time(6, 0)

    def is_night(self, at: dt.datetime) -> bool:
        clock = at.astimezone(SHANGHAI).time()
        return clock >= self.night_start or clock < self.night_end

    def clock_category(self, name: str, *, start: dt.datetime) -> Category:
        """The category whose clock runs for a ticket of category ``name`` started at ``start``."""
        category = self.categories[name]
        if category.night_only and not self.is_night(start):
            return self.categories[category.daytime_category]
        return category

    def nuisance(self, code: str) -> NuisanceType:
        found = self.nuisance_types.get(code)
        if found is None:
            raise ValidationFailed(
                f"unknown nuisance type {code!r}; one of {', '.join(self.nuisance_types)}",
                code="invalid_nuisance_type",
            )
        return found

    def category_of(self, nuisance_code: str) -> Category:
        return self.categories[self.nuisance(nuisance_code).category]


def parse_policy(document: Mapping[str, Any]) -> Policy:
    """Build the policy from ``config/complaints.yml``; a malformed file fails at load time."""
    categories = _parse_categories(document.get("categories") or {})
    types = _parse_nuisance_types(document.get("nuisance_types") or {}, categories=categories)
    return Policy(
        categories=categories,
        nuisance_types=types,
        due_soon_fraction=float(document.get("due_soon_fraction", 0.25)),
        dispatch_radius_m=float(document.get("dispatch_radius_m", 500)),
        town_radius_m=float(document.get("town_radius_m", 5000)),
        duplicate_window=dt.timedelta(minutes=float(document.get("duplicate_window_minutes", 120))),
        duplicate_distance_m=float(document.get("duplicate_distance_m", 300)),
        reopen_days=int(document.get("reopen_days", 7)),
        night_start=_hhmm(str(document.get("night_start", "22:00"))),
        night_end=_hhmm(str(document.get("night_end", "06:00"))),
    )


def _parse_categories(raw_categories: Mapping[str, Any]) -> dict[str, Category]:
    categories: dict[str, Category] = {}
    for name, raw in raw_categories.items():
        days, hours = raw.get("working_days"), raw.get("hours")
        if (days is None) == (hours is None):
            raise ValueError(f"category {name}: give exactly one of working_days or hours")
        categories[name] = Category(
            name=name,
            label=str(raw.get("label", name)),
            working_days=int(days) if days is not None else None,
            hours=float(hours) if hours is not None else None,
            night_only=bool(raw.get("night_only", False)),
            daytime_category=str(raw.get("daytime_category", "")),
        )
    for category in categories.values():
        fallback = categories.get(category.daytime_category)
        if category.night_only and (fallback is None or fallback.night_only):
            raise ValueError(
                f"category {category.name}: night_only needs a daytime_category without night_only"
            )
    return categories


def _parse_nuisance_types(
    raw_types: Mapping[str, Any], *, categories: Mapping[str, Category]
) -> dict[str, NuisanceType]:
    types: dict[str, NuisanceType] = {}
    for code, raw in raw_types.items():
        if raw["category"] not in categories:
            raise ValueError(f"nuisance type {code}: unknown category {raw['category']}")
        types[code] = NuisanceType(
            code=code,
            label=str(raw["label"]),
            description=str(raw.get("description", "")),
            category=str(raw["category"]),
            department=str(raw["department"]),
            no_site_department=str(raw.get("no_site_department", raw["department"])),
        )
    if not types:
        raise ValueError("complaints policy: no nuisance types")
    return types


def _hhmm(text: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"complaints policy: {text!r} is not a HH:MM time") from error


# --- SLA ------------------------------------------------------------------------------------------


class DeadlineCalendar(Protocol):
    """The part of ``domain.calendar.rules.WorkingCalendar`` the SLA clock needs."""

    def due_at(self, start: dt.datetime, working_days: int) -> dt.datetime: ...


class SlaStatus(StrEnum):
    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    MET = "met"  # answered before the deadline
    MISSED = "missed"  # answered after it


SLA_LABELS: dict[SlaStatus, str] = {
    SlaStatus.ON_TIME: "正常",
    SlaStatus.DUE_SOON: "即将到期",
    SlaStatus.OVERDUE: "已超期",
    SlaStatus.MET: "按时办结",
    SlaStatus.MISSED: "超期办结",
}


def sla_due(category: Category, *, start: dt.datetime, calendar: DeadlineCalendar) -> dt.datetime:
    """When the answer is due: working days on the shared calendar, or hours on the wall clock."""
    if start.tzinfo is None:
        raise ValueError("SLA clocks need a timezone-aware start")
    if category.hours is not None:
        return (start + dt.timedelta(hours=category.hours)).astimezone(dt.UTC)
    assert category.working_days is not None
    return calendar.due_at(start, category.working_days)


def sla_status(
    *,
    started_at: dt.datetime,
    due_at: dt.datetime,
    now: dt.datetime,
    answered_at: dt.datetime | None,
    due_soon_fraction: float,
) -> SlaStatus:
    if answered_at is not None:
        return SlaStatus.MET if answered_at <= due_at else SlaStatus.MISSED
    if now > due_at:
        return SlaStatus.OVERDUE
    total = (due_at - started_at).total_seconds()
    if (due_at - now).total_seconds() <= total * due_soon_fraction:
        return SlaStatus.DUE_SOON
    return SlaStatus.ON_TIME
