"""Registry import, export and editing, on SQLite and PostgreSQL: a whole city in one go, every
problem listed by row and column before anything is written, idempotent re-imports, round trips."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from domain.audit.models import AuditEntry
from domain.errors import ValidationFailed
from domain.projects import registry
from domain.projects.models import Camera, Device, Enterprise, Person, Project, Site
from domain.projects.registry_files import csv_city_file, read_city_file, xlsx_city_file
from domain.projects.registry_rules import SheetKind
from tests.city_file import city_sheets

NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)


async def counts() -> dict[str, int]:
    models: dict[str, Any] = {"enterprises": Enterprise, "people": Person, "projects": Project, "sites": Site}
    models |= {"devices": Device, "cameras": Camera}
    return {name: await model.all().count() for name, model in models.items()}


async def run_import(sheets: Any, *, dry_run: bool = False) -> registry.ImportReport:
    return await registry.import_registry(sheets, actor="admin:1", source="test", dry_run=dry_run, now=NOW)


@pytest.mark.slow
async def test_a_900_site_city_imports_in_one_go_and_again_changes_nothing(database: str) -> None:
    sheets = city_sheets()
    report = await run_import(sheets)
    assert report.problems == []
    expected = {"enterprises": 60, "people": 1800, "projects": 900, "sites": 900, "devices": 3006}
    expected["cameras"] = 2700
    assert report.created == expected
    assert await counts() == expected
    again = await run_import(sheets)
    assert again.created == dict.fromkeys(expected, 0) and again.updated == dict.fromkeys(expected, 0)
    assert await counts() == expected
    assert await AuditEntry.all().count() == sum(expected.values())  # one entry per created record


def seed_fifty_errors(sheets: dict[SheetKind, list[list[str]]]) -> set[tuple[str, int, str]]:
    """Ten wrong cells in each of five columns; returns (sheet, row, column) of each."""
    wrong = {
        (SheetKind.PROJECTS, "纬度", "abc"),
        (SheetKind.PROJECTS, "类型", "别墅"),
        (SheetKind.SITES, "项目编号", "WL-2026-9999"),
        (SheetKind.DEVICES, "上报间隔(秒)", "5"),
        (SheetKind.CAMERAS, "视频流地址", "ftp://camera"),
    }
    titles = {
        SheetKind.PROJECTS: "项目",
        SheetKind.SITES: "工地",
        SheetKind.DEVICES: "设备",
        SheetKind.CAMERAS: "摄像头",
    }
    seeded = set()
    for kind, column, value in wrong:
        rows = sheets[kind]
        index = rows[0].index(column)
        for n in range(10):
            row = 2 + n * 3 + len(column) % 3  # spread over the sheet; spreadsheet rows start at 2
            rows[row - 1][index] = value
            seeded.add((titles[kind], row, column))
    return seeded


async def test_the_dry_run_lists_all_fifty_errors_and_a_failed_import_writes_nothing(database: str) -> None:
    sheets = city_sheets(sites=40)
    seeded = seed_fifty_errors(sheets)
    report = await run_import(sheets, dry_run=True)
    assert len(report.problems) == 50
    for sheet, row, column in seeded:
        assert any(p.startswith(f"「{sheet}」第 {row} 行「{column}」") for p in report.problems), (
            sheet,
            row,
            column,
        )
    with pytest.raises(ValidationFailed) as refused:
        await run_import(sheets)
    assert refused.value.code == "import_invalid" and len(refused.value.problems) == 50
    assert set((await counts()).values()) == {0}
    assert await AuditEntry.all().count() == 0


async def test_export_import_export_round_trips_byte_for_byte(database: str) -> None:
    await run_import(city_sheets(sites=30))
    first = await registry.export_registry()
    first_csv = {kind: csv_city_file(rows) for kind, rows in first.items()}
    first_xlsx = xlsx_city_file(first)
    for model in (Camera, Device, Site, Project, Person, Enterprise):
        await model.all().delete()
    from_xlsx = read_city_file(first_xlsx, kind_of_file="zip", sheet=None)
    assert (await run_import(from_xlsx)).problems == []
    second = await registry.export_registry()
    assert {kind: csv_city_file(rows) for kind, rows in second.items()} == first_csv
    assert second == first


async def test_a_changed_row_is_updated_and_audited_with_before_and_after(database: str) -> None:
    sheets = city_sheets(sites=3)
    await run_import(sheets)
    await registry.edit_record(
        SheetKind.DEVICES,
        sheets[SheetKind.DEVICES][1][0],
        {"interval_s": "300"},
        actor="staff:9",
        now=NOW,
        create=False,
    )
    entry = await AuditEntry.filter(action="update").get()
    assert (entry.entity, entry.actor, entry.before, entry.after) == (
        "devices",
        "staff:9",
        {"interval_s": 60},
        {"interval_s": 300},
    )
    report = await registry.retire_record(SheetKind.CAMERAS, "CAM-0001-1", actor="staff:9", now=NOW)
    assert report.updated["cameras"] == 1
    assert not (await Camera.get(code="CAM-0001-1")).enabled
