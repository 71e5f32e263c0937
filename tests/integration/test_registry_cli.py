"""``python -m config registry``: a dry run that fails with the problems listed, then an import."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from config.cli import main
from config.container import close_database, open_database
from domain.projects.models import Camera
from domain.projects.registry_files import csv_city_file, xlsx_city_file
from domain.projects.registry_rules import SheetKind
from tests.city_file import city_sheets


async def camera_count(tmp_path: Path) -> int:
    from config.settings import Settings  # noqa: PLC0415

    await open_database(Settings(data_dir=tmp_path))
    try:
        return await Camera.all().count()
    finally:
        await close_database()


def test_registry_cli_checks_then_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "")
    assert main(["migrate"]) == 0
    sheets = city_sheets(sites=4)
    city = tmp_path / "city.xlsx"
    city.write_bytes(xlsx_city_file(sheets))
    assert main(["registry", "import", str(city)]) == 0
    assert "dry run" in capsys.readouterr().out
    assert asyncio.run(camera_count(tmp_path)) == 0
    assert main(["registry", "import", str(city), "--apply"]) == 0
    assert asyncio.run(camera_count(tmp_path)) == 12
    broken = [row[:] for row in sheets[SheetKind.CAMERAS]]
    broken[1][4] = "fast"
    bad = tmp_path / "cameras.csv"
    bad.write_bytes(csv_city_file(broken))
    assert main(["registry", "import", str(bad), "--sheet", "cameras", "--apply"]) == 1
    assert "「摄像头」第 2 行「采样帧率」：“fast” 应为数字" in capsys.readouterr().out
    out = tmp_path / "export.csv"
    assert main(["registry", "export", "--sheet", "cameras", "--out", str(out)]) == 0
    assert out.read_bytes() == csv_city_file(sheets[SheetKind.CAMERAS])
