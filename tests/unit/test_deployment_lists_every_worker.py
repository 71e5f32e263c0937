"""Every worker the embedded mode runs has a production process: in the Procfile and in the deployment
guide's list (a worker missing there would silently never run once RUN_EMBEDDED_WORKERS=false)."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.workers import embedded_workers

REPO = Path(__file__).resolve().parents[2]
NAMES = [name for name, _worker in embedded_workers()]


@pytest.mark.parametrize("name", NAMES)
def test_the_procfile_and_the_guide_run_each_worker(name: str) -> None:
    procfile = (REPO / "deploy" / "Procfile").read_text(encoding="utf-8")
    guide = (REPO / "docs" / "deployment.md").read_text(encoding="utf-8")
    assert f"{name}: .venv/bin/python -m config worker {name}\n" in procfile
    assert f"python -m config worker {name}" in guide
