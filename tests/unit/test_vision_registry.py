"""The model registry: versioned files, statuses, and promotions that need a shadow agreement."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from vision_worker import registry as registry_module
from vision_worker.registry import (
    InvalidTransition,
    ModelRegistry,
    ModelStatus,
    PromotionRefused,
    RegistryError,
    VersionExists,
)


def model_file(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    path.write_bytes(content)
    return path


def agreement(current: str, frames: int = 40) -> dict[str, object]:
    return {"current": current, "frames": frames, "head": {"agreement": 0.97}}


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(tmp_path / "registry")


def test_register_copies_the_model_under_its_hash_with_a_manifest(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    source = model_file(tmp_path, "city-v1.onnx", b"onnx bytes v1")
    entry = registry.register(source, version="city-v1", metrics={"evaluate": {"map50": 0.87}})
    digest = hashlib.sha256(b"onnx bytes v1").hexdigest()
    assert entry.sha256 == digest and entry.status is ModelStatus.CANDIDATE
    assert registry.model_path(entry) == registry.root / "blobs" / f"{digest}.onnx"
    assert registry.model_path(entry).read_bytes() == b"onnx bytes v1"
    source.write_bytes(b"changed after registering")  # the registry keeps its own copy
    assert registry.model_path(entry).read_bytes() == b"onnx bytes v1"
    manifest = json.loads((registry.root / "versions" / "city-v1.json").read_text())
    assert manifest["version"] == "city-v1" and manifest["sha256"] == digest
    assert manifest["status"] == "candidate" and manifest["metrics"] == {"evaluate": {"map50": 0.87}}
    assert manifest["source"] == str(source.resolve()) and manifest["created_at"].endswith("+00:00")
    assert [e.version for e in registry.versions()] == ["city-v1"]
    assert registry.get("city-v1") == entry


def test_same_bytes_share_one_file_and_versions_are_unique(registry: ModelRegistry, tmp_path: Path) -> None:
    source = model_file(tmp_path, "m.onnx", b"same")
    one = registry.register(source, version="v1")
    two = registry.register(source, version="v2")
    assert one.sha256 == two.sha256
    assert [p.name for p in (registry.root / "blobs").iterdir()] == [f"{one.sha256}.onnx"]
    with pytest.raises(VersionExists):
        registry.register(source, version="v1")
    with pytest.raises(RegistryError, match="letters"):
        registry.register(source, version="../escape")
    with pytest.raises(RegistryError, match="no such model"):
        registry.register(tmp_path / "absent.onnx", version="v3")


def test_shadow_and_promotion_follow_the_transition_table(registry: ModelRegistry, tmp_path: Path) -> None:
    for version in ("v1", "v2", "v3"):
        registry.register(model_file(tmp_path, f"{version}.onnx", version.encode()), version=version)
    assert registry.promote("v1").status is ModelStatus.CURRENT  # the first model: nothing to compare with
    registry.set_shadow("v2")
    assert registry.shadow() is not None and registry.shadow().version == "v2"  # type: ignore[union-attr]
    registry.set_shadow("v3")  # one shadow at a time: v2 goes back to candidate
    assert registry.get("v2").status is ModelStatus.CANDIDATE
    assert registry.get("v3").status is ModelStatus.SHADOW
    with pytest.raises(InvalidTransition):
        registry.set_shadow("v1")  # the current model cannot shadow itself

    registry.record_agreement("v3", agreement(current="v1"))
    promoted = registry.promote("v3")
    assert promoted.status is ModelStatus.CURRENT and registry.current() == promoted
    assert registry.get("v1").status is ModelStatus.RETIRED
    assert registry.shadow() is None
    assert [e.status for e in registry.versions()].count(ModelStatus.CURRENT) == 1


def test_promotion_without_a_recorded_agreement_is_refused_unless_forced(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    for version in ("v1", "v2"):
        registry.register(model_file(tmp_path, f"{version}.onnx", version.encode()), version=version)
    registry.promote("v1")
    with pytest.raises(PromotionRefused, match="no shadow agreement"):
        registry.promote("v2")
    registry.record_agreement("v2", agreement(current="v0"))  # measured against another model
    with pytest.raises(PromotionRefused, match="not over live frames"):
        registry.promote("v2")
    registry.record_agreement("v2", agreement(current="v1", frames=0))  # nothing compared yet
    with pytest.raises(PromotionRefused):
        registry.promote("v2")
    assert registry.current() is not None and registry.current().version == "v1"  # type: ignore[union-attr]
    assert registry.promote("v2", force=True).status is ModelStatus.CURRENT
    assert registry.get("v1").status is ModelStatus.RETIRED


def test_a_failed_manifest_write_leaves_the_previous_manifest_whole(
    registry: ModelRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry.register(model_file(tmp_path, "v1.onnx", b"v1"), version="v1")
    manifest = registry.root / "versions" / "v1.json"
    before = manifest.read_bytes()

    def crash(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        registry.promote("v1")
    monkeypatch.undo()
    assert manifest.read_bytes() == before  # never half-written
    assert registry.get("v1").status is ModelStatus.CANDIDATE
    leftovers = [p.name for p in manifest.parent.iterdir() if p.name != "v1.json"]
    assert leftovers == []  # the temporary file is removed


def test_write_atomically_replaces_in_one_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "m.json"
    target.write_text("old")
    seen: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(source: str, destination: Path) -> None:
        seen.append((Path(source).read_text(), target.read_text()))  # new data complete, old still there
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", spy)
    registry_module.write_atomically(target, b"new")
    assert seen == [("new", "old")] and target.read_text() == "new"
