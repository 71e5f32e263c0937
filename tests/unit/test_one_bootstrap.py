"""One composition root: the domain reads no files, and the deployed policies come from the bootstrap.

Before this change nine domain modules opened ``config/*.yml`` themselves, each behind its own
module-level cache, and the approvals catalogue was read by the API, the bot and the reminders
separately.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from adapters.config_files import CONFIG_DIR, load_policies
from domain import policies

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
FILE_READS = frozenset({"read_text", "read_bytes", "write_text", "write_bytes", "glob", "iterdir"})
FILE_MODULES = frozenset({"pathlib", "yaml", "shutil"})  # io: BytesIO only, in memory


def _file_access(path: Path) -> list[str]:
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        where = f"{path}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open":
            found.append(f"{where} open()")
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) in FILE_READS:
            found.append(f"{where} .{getattr(node.func, 'attr', '')}()")
        elif isinstance(node, ast.Name) and node.id == "__file__":
            found.append(f"{where} __file__")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            found += [f"{where} import {name}" for name in names if name.split(".")[0] in FILE_MODULES]
    return found


def test_the_domain_reads_no_files() -> None:
    offenders = [hit for path in sorted(DOMAIN.rglob("*.py")) for hit in _file_access(path)]
    assert offenders == []


def test_the_scan_finds_a_file_read(tmp_path: Path) -> None:
    """The scan above can fail: a module that reads its own YAML is caught."""
    probe = tmp_path / "reads_a_file.py"
    source = "import yaml\nfrom pathlib import Path\nX = Path(__file__).read_text()\n"
    probe.write_text(source, encoding="utf-8")
    assert len(_file_access(probe)) == 4


def test_using_the_domain_before_the_bootstrap_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(policies, "_installed", None)
    with pytest.raises(policies.PoliciesNotInstalled, match="bootstrap"):
        policies.current()


def test_every_document_is_read_and_checked_at_start() -> None:
    deployed = load_policies()
    assert deployed.complaints.nuisance_types and deployed.approvals.stages
    assert deployed.templates and deployed.emergency_plans and deployed.exchange.feeds
    assert deployed.reports.stage_limits.keys() == {stage.key for stage in deployed.approvals.stages}


def test_a_broken_document_stops_the_start_not_a_request(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (config / "alert_rules.yml").write_text("dust: {}\nnoise: {}\ncrane: {}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="offline"):
        load_policies(config)
