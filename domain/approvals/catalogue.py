"""The approval catalogue: stages, items, departments, time limits and required materials.

Parsed from ``config/approvals.yml`` into frozen value objects so that rules can be unit-tested on a
catalogue built in memory, and a broken file fails at startup rather than on a citizen's request.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.accounts.rules import Department

FILE_KINDS = frozenset({"pdf", "jpeg", "png", "dwg", "dxf"})
CONDITION_FIELDS = frozenset({"area_m2", "investment_wan"})
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
}
FIELD_LABELS = {"area_m2": "总建筑面积", "investment_wan": "总投资"}
FIELD_UNITS = {"area_m2": "平方米", "investment_wan": "万元"}


class CatalogueInvalid(ValueError):
    """``config/approvals.yml`` does not describe a usable process."""


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: str
    value: float

    def holds(self, fields: Mapping[str, Any]) -> bool | None:
        """True/False, or None when the field is not filled in yet (the checklist shows it as 'maybe')."""
        actual = fields.get(self.field)
        if not isinstance(actual, int | float) or isinstance(actual, bool):
            return None
        return _OPERATORS[self.op](float(actual), self.value)

    def describe(self) -> str:
        value = f"{self.value:g}"
        return f"{FIELD_LABELS[self.field]}{self.op}{value}{FIELD_UNITS[self.field]}"


@dataclass(frozen=True, slots=True)
class MaterialSpec:
    key: str
    name: str
    types: tuple[str, ...]
    required: bool
    when: Condition | None = None


@dataclass(frozen=True, slots=True)
class Item:
    key: str
    name: str
    department: Department
    time_limit_days: int
    materials: tuple[MaterialSpec, ...]
    when: Condition | None = None


@dataclass(frozen=True, slots=True)
class Stage:
    key: str
    name: str
    lead: Department
    time_limit_days: int
    items: tuple[Item, ...]

    def applicable_items(self, fields: Mapping[str, Any]) -> tuple[Item, ...]:
        """Items whose condition holds; an unknown condition counts as applicable (ask for more)."""
        return tuple(item for item in self.items if item.when is None or item.when.holds(fields) is not False)

    def departments(self, fields: Mapping[str, Any]) -> tuple[Department, ...]:
        """Lead first, then the parallel departments, each once."""
        found = [self.lead] + [item.department for item in self.applicable_items(fields)]
        return tuple(dict.fromkeys(found))

    def department_limit(self, department: Department, fields: Mapping[str, Any]) -> int:
        limits = [i.time_limit_days for i in self.applicable_items(fields) if i.department == department]
        return max(limits, default=self.time_limit_days)


@dataclass(frozen=True, slots=True)
class Catalogue:
    stages: tuple[Stage, ...]
    due_soon_working_days: int = 2
    correction_notice_working_days: int = 5

    def stage(self, key: str) -> Stage | None:
        return next((stage for stage in self.stages if stage.key == key), None)

    def find_stage(self, text: str) -> Stage | None:
        """A stage or the stage of an item named in free text (for the bot's 'ask_procedure')."""
        for stage in self.stages:
            if stage.key == text or stage.name in text or text in stage.name:
                return stage
        return None

    def find_item(self, text: str) -> tuple[Stage, Item] | None:
        for stage in self.stages:
            for item in stage.items:
                if item.key == text or item.name in text or (len(text) >= 2 and text in item.name):
                    return stage, item
        return None

    def material_spec(self, key: str) -> MaterialSpec | None:
        for stage in self.stages:
            for item in stage.items:
                for spec in item.materials:
                    if spec.key == key:
                        return spec
        return None


def _condition(raw: object, where: str) -> Condition | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise CatalogueInvalid(f"{where}: 'when' must be a mapping")
    field, op, value = raw.get("field"), raw.get("op"), raw.get("value")
    if field not in CONDITION_FIELDS or op not in _OPERATORS or not isinstance(value, int | float):
        raise CatalogueInvalid(f"{where}: bad condition {dict(raw)!r}")
    return Condition(field=str(field), op=str(op), value=float(value))


def _department(raw: object, where: str) -> Department:
    try:
        return Department(str(raw))
    except ValueError as error:
        raise CatalogueInvalid(f"{where}: unknown department {raw!r}") from error


def _positive_int(raw: object, where: str) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or not 0 < raw <= 200:
        raise CatalogueInvalid(f"{where}: time_limit_days must be a whole number of working days 1..200")
    return raw


def _material(raw: Mapping[str, Any], where: str) -> MaterialSpec:
    types = tuple(raw.get("types") or ())
    if not raw.get("key") or not raw.get("name") or not types or not set(types) <= FILE_KINDS:
        raise CatalogueInvalid(f"{where}: a material needs key, name and types among {sorted(FILE_KINDS)}")
    return MaterialSpec(
        key=str(raw["key"]),
        name=str(raw["name"]),
        types=types,
        required=bool(raw.get("required", True)),
        when=_condition(raw.get("when"), where),
    )


def _item(raw: Mapping[str, Any], where: str) -> Item:
    where = f"{where}/{raw.get('key')}"
    return Item(
        key=str(raw["key"]),
        name=str(raw["name"]),
        department=_department(raw.get("department"), where),
        time_limit_days=_positive_int(raw.get("time_limit_days"), where),
        materials=tuple(_material(m, where) for m in raw.get("materials") or ()),
        when=_condition(raw.get("when"), where),
    )


def parse_catalogue(document: Mapping[str, Any]) -> Catalogue:
    stages: list[Stage] = []
    try:
        for raw in document["stages"]:
            where = str(raw.get("key"))
            items = tuple(_item(item, where) for item in raw["items"])
            stage = Stage(
                key=str(raw["key"]),
                name=str(raw["name"]),
                lead=_department(raw.get("lead"), where),
                time_limit_days=_positive_int(raw.get("time_limit_days"), where),
                items=items,
            )
            if not items:
                raise CatalogueInvalid(f"{where}: a stage needs items")
            stages.append(stage)
    except (KeyError, TypeError, AttributeError) as error:
        raise CatalogueInvalid(f"approval catalogue is malformed: {error!r}") from error
    sla = document.get("sla") or {}
    return Catalogue(
        stages=tuple(stages),
        due_soon_working_days=int(sla.get("due_soon_working_days", 2)),
        correction_notice_working_days=int(sla.get("correction_notice_working_days", 5)),
    )
