"""Registry administration: import, export, edit and retire enterprises, projects, sites, devices and
cameras, all through one validated path, in one transaction, with an audit entry per change.

An import either writes every row or nothing. A single edit from the API or the console is a one-row
import of the record as it is now with the changed cells, so it is validated and audited the same way.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise.models import Model
from tortoise.transactions import in_transaction

from domain.audit.models import AuditEntry
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.projects.models import Camera, Device, Enterprise, Person, Project, Site
from domain.projects.registry_rules import (
    SHEET_BY_KIND,
    SHEETS,
    ParsedSheet,
    SheetKind,
    SheetSpec,
    changed_fields,
    export_rows,
    parse_sheet,
    reference_problems,
)
from domain.projects.rules import ProjectStatus

MODELS: dict[SheetKind, type[Model]] = {
    SheetKind.ENTERPRISES: Enterprise,
    SheetKind.PEOPLE: Person,
    SheetKind.PROJECTS: Project,
    SheetKind.SITES: Site,
    SheetKind.DEVICES: Device,
    SheetKind.CAMERAS: Camera,
}
# Reference fields of the sheets -> (the model's foreign-key column, the sheet whose ids it takes).
FOREIGN_KEYS: dict[str, tuple[str, SheetKind]] = {
    "developer_uscc": ("developer_id", SheetKind.ENTERPRISES),
    "contractor_uscc": ("contractor_id", SheetKind.ENTERPRISES),
    "supervisor_uscc": ("supervisor_id", SheetKind.ENTERPRISES),
    "enterprise_uscc": ("enterprise_id", SheetKind.ENTERPRISES),
    "project_manager_cert": ("project_manager_id", SheetKind.PEOPLE),
    "safety_officer_cert": ("safety_officer_id", SheetKind.PEOPLE),
    "project_code": ("project_id", SheetKind.PROJECTS),
    "site_code": ("site_id", SheetKind.SITES),
}
# How a reference field is read back: through the related row's natural key.
LOOKUPS = {
    "developer_uscc": "developer__uscc",
    "contractor_uscc": "contractor__uscc",
    "supervisor_uscc": "supervisor__uscc",
    "enterprise_uscc": "enterprise__uscc",
    "project_manager_cert": "project_manager__certificate_no",
    "safety_officer_cert": "safety_officer__certificate_no",
    "project_code": "project__code",
    "site_code": "site__code",
}
RETIRE: dict[SheetKind, tuple[str, Any]] = {
    SheetKind.PROJECTS: ("status", ProjectStatus.FINISHED),
    SheetKind.SITES: ("active", False),
    SheetKind.DEVICES: ("enabled", False),
    SheetKind.CAMERAS: ("enabled", False),
}


@dataclass
class ImportReport:
    dry_run: bool
    problems: list[str] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "ok": not self.problems,
            "problems": self.problems,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


async def current_records(spec: SheetSpec) -> dict[Any, dict[str, Any]]:
    """Every registered row of a sheet, by key, in the sheet's own fields."""
    names = [c.field for c in spec.columns]
    plain = [name for name in names if name not in LOOKUPS]
    related = {name: LOOKUPS[name] for name in names if name in LOOKUPS}
    # People registered without a certificate number (older rows) have no key: the registry skips them.
    rows = await MODELS[spec.kind].exclude(**{spec.key: ""}).values(*plain, **related)
    # An empty reference reads back as NULL; in a sheet it is an empty cell.
    return {
        row[spec.key]: {n: (row.get(n) or "") if n in related else row.get(n) for n in names} for row in rows
    }


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    def one(value: Any) -> Any:
        if isinstance(value, enum.Enum):
            return value.value
        if isinstance(value, dt.date):
            return value.isoformat()
        return value

    return {name: one(value) for name, value in values.items() if not name.startswith("_")}


def _columns(record: Mapping[str, Any], ids: Mapping[SheetKind, Mapping[Any, int]]) -> dict[str, Any]:
    """A sheet record as model columns: references become foreign-key ids."""
    values: dict[str, Any] = {}
    for name, value in record.items():
        if name.startswith("_"):
            continue
        if name in FOREIGN_KEYS:
            column, target = FOREIGN_KEYS[name]
            values[column] = ids[target].get(value) if value else None
        else:
            values[name] = value
    return values


async def _ids(kind: SheetKind) -> dict[Any, int]:
    key = SHEET_BY_KIND[kind].key
    return {row[key]: row["id"] for row in await MODELS[kind].exclude(**{key: ""}).values("id", key)}


def _parse(sheets: Mapping[SheetKind, Sequence[Sequence[str]]]) -> dict[SheetKind, ParsedSheet]:
    return {spec.kind: parse_sheet(spec, sheets[spec.kind]) for spec in SHEETS if spec.kind in sheets}


async def _problems(parsed: Mapping[SheetKind, ParsedSheet]) -> list[str]:
    registered: dict[SheetKind, set[str]] = {}
    for kind in {r.target for sheet in parsed.values() for r in sheet.spec.references}:
        registered[kind] = set((await _ids(kind)).keys())
    found = [p for sheet in parsed.values() for p in sheet.problems]
    found += reference_problems(parsed, registered)
    sheet_order = {spec.title: index for index, spec in enumerate(SHEETS)}  # as the workbook lists them
    return [p.sentence() for p in sorted(found, key=lambda p: (sheet_order[p.sheet], p.row, p.column))]


async def _apply_sheet(
    sheet: ParsedSheet, *, report: ImportReport, audit: list[AuditEntry], stamp: dict[str, Any], write: bool
) -> None:
    spec, model = sheet.spec, MODELS[sheet.spec.kind]
    existing = await current_records(spec)
    ids = {target: await _ids(target) for _, target in FOREIGN_KEYS.values()} if write else {}
    creates: list[Model] = []
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for record in sheet.records:
        key = record[spec.key]
        after = _jsonable(record)
        before = existing.get(key)
        if before is None:
            counts["created"] += 1
            if write:
                creates.append(model(**_columns(record, ids)))
            audit.append(
                AuditEntry(**stamp, entity=spec.kind.value, key=str(key), action="create", after=after)
            )
            continue
        changes = changed_fields(before, {k: v for k, v in record.items() if not k.startswith("_")})
        if not changes:
            counts["unchanged"] += 1
            continue
        counts["updated"] += 1
        if write:
            update = _columns({name: new for name, (_old, new) in changes.items()}, ids)
            await model.filter(**{spec.key: key}).update(**update)
        audit.append(
            AuditEntry(**stamp, entity=spec.kind.value, key=str(key), action="update",
                       before=_jsonable({n: old for n, (old, _) in changes.items()}),
                       after=_jsonable({n: new for n, (_, new) in changes.items()}))
        )  # fmt: skip
    if write and creates:
        await model.bulk_create(creates, batch_size=500)
    for name, count in counts.items():
        getattr(report, name)[spec.kind.value] = count


async def import_registry(
    sheets: Mapping[SheetKind, Sequence[Sequence[str]]],
    *,
    actor: str,
    source: str,
    dry_run: bool,
    now: dt.datetime,
) -> ImportReport:
    """Validate everything first; then write every sheet in one transaction, or nothing."""
    parsed = _parse(sheets)
    report = ImportReport(dry_run=dry_run, problems=await _problems(parsed))
    if report.problems:
        if dry_run:
            return report
        raise ValidationFailed(
            f"导入文件有 {len(report.problems)} 处错误，未写入任何数据",
            code="import_invalid",
            problems=report.problems,
        )
    stamp = {"at": now, "actor": actor[:64], "source": source[:64]}
    audit: list[AuditEntry] = []
    async with in_transaction():
        for spec in SHEETS:  # in dependency order: enterprises before projects before sites ...
            if spec.kind in parsed:
                await _apply_sheet(
                    parsed[spec.kind], report=report, audit=audit, stamp=stamp, write=not dry_run
                )
        if not dry_run and audit:
            await AuditEntry.bulk_create(audit, batch_size=500)
    return report


async def export_registry(
    kinds: Sequence[SheetKind] = tuple(SHEET_BY_KIND),
) -> dict[SheetKind, list[list[str]]]:
    exported: dict[SheetKind, list[list[str]]] = {}
    for kind in kinds:
        spec = SHEET_BY_KIND[kind]
        exported[kind] = export_rows(spec, list((await current_records(spec)).values()))
    return exported


def template_sheets() -> dict[SheetKind, list[list[str]]]:
    return {spec.kind: [[c.header for c in spec.columns]] for spec in SHEETS}


async def edit_record(
    kind: SheetKind, key: str, changes: Mapping[str, str], *, actor: str, now: dt.datetime, create: bool
) -> ImportReport:
    """Create or change one record: its current row (if any) with ``changes`` (by field name or Chinese
    header) laid over it, imported like a one-row file."""
    spec = SHEET_BY_KIND[kind]
    header, *rows = export_rows(spec, list((await current_records(spec)).values()))
    current = next((row for row in rows if row[header.index(spec.column(spec.key).header)] == key), None)
    if current is None and not create:
        raise NotFound(f"{spec.title} {key} 不存在", code="registry_record_not_found")
    if current is not None and create:
        raise Conflict(f"{spec.title} {key} 已存在", code="registry_record_exists")
    by_header = {c.field: c.header for c in spec.columns}
    cells = dict(zip(header, current or [""] * len(header), strict=True))
    for name, value in changes.items():
        cells[by_header.get(name, name)] = str(value)
    cells[spec.column(spec.key).header] = key
    unknown = sorted(set(cells) - set(header))
    if unknown:
        raise ValidationFailed(f"unknown fields: {', '.join(unknown)}", code="invalid_field")
    return await import_registry(
        {kind: [header, [cells[h] for h in header]]}, actor=actor, source="api", dry_run=False, now=now
    )


async def retire_record(kind: SheetKind, key: str, *, actor: str, now: dt.datetime) -> ImportReport:
    if kind not in RETIRE:
        raise Conflict("企业和人员记录不能停用，请修改其项目关系", code="registry_cannot_retire")
    field_name, value = RETIRE[kind]
    label = SHEET_BY_KIND[kind].column(field_name).format(value)
    return await edit_record(kind, key, {field_name: label}, actor=actor, now=now, create=False)
