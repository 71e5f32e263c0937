"""The operator commands, run as a city would: ``python -m vision_worker detect|evaluate|device-key``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import REPO_ROOT, Settings
from domain.vision.rules import camera_device_key

MODEL = Settings().vision_model_path
SAMPLES = MODEL.parent / "samples"
needs_model = pytest.mark.skipif(not MODEL.exists(), reason=f"shared model absent at {MODEL}")


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vision_worker", *args],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@needs_model
def test_detect_prints_classes_scores_and_pixel_boxes_as_json() -> None:
    image = SAMPLES / "hard_hat_workers101.jpg"
    result = run("detect", str(image), "--json", "--model", str(MODEL))
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout.splitlines()[0])
    assert payload["path"] == str(image)
    heads = [d for d in payload["detections"] if d["class"] == "head"]
    assert len(heads) >= 4
    for detection in payload["detections"]:
        x1, y1, x2, y2 = detection["box"]
        assert 0 <= x1 < x2 <= 416 and 0 <= y1 < y2 <= 416 and 0 < detection["score"] <= 1


@needs_model
def test_evaluate_reports_per_class_precision_recall_and_map() -> None:
    result = run("evaluate", str(SAMPLES), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    by_class = {row["class"]: row for row in report["classes"]}
    assert set(by_class) == {"head", "helmet"}
    assert report["map50"] >= 0.8
    assert by_class["head"]["precision"] >= 0.85 and by_class["head"]["recall"] >= 0.7
    # Single stills, not camera sequences: no false-alarm figure rather than a made-up zero.
    assert report["false_alarms"]["false_alarms_per_camera_day"] is None
    assert report["false_alarms"]["loose_frames"] == len(list(SAMPLES.glob("*.jpg")))
    text = run("evaluate", str(SAMPLES))
    assert "false alarms per camera-day: n/a" in text.stdout


def test_detect_reports_unreadable_files_and_device_key_matches(tmp_path: Path) -> None:
    if MODEL.exists():
        broken = tmp_path / "broken.jpg"
        broken.write_bytes(b"\xff\xd8\xff nothing")
        result = run("detect", str(broken))
        assert result.returncode == 1 and "cannot read" in result.stderr
    key = run("device-key", "CAM-0031-1", SECRET_KEY="k" * 40)
    assert key.stdout.strip() == camera_device_key(b"k" * 40, "CAM-0031-1")


def _standard_layout(root: Path, names: list[str]) -> Path:
    """The same frames as ``ultralytics`` lays a dataset out: images/val + labels/val."""
    for name in names:
        for kind, suffix in (("images", ".jpg"), ("labels", ".txt")):
            target = root / kind / "val" / f"{name}{suffix}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((SAMPLES / f"{name}{suffix}").read_bytes())
    return root


def _flat_layout(root: Path, names: list[str]) -> Path:
    root.mkdir()
    for name in names:
        for suffix in (".jpg", ".txt"):
            (root / f"{name}{suffix}").write_bytes((SAMPLES / f"{name}{suffix}").read_bytes())
    return root


@needs_model
def test_evaluate_gives_the_same_report_on_the_standard_yolo_layout_as_on_a_flat_folder(
    tmp_path: Path,
) -> None:
    names = sorted(path.stem for path in SAMPLES.glob("*.jpg"))[:6]
    flat = run("evaluate", str(_flat_layout(tmp_path / "flat", names)), "--json")
    standard = run("evaluate", str(_standard_layout(tmp_path / "yolo", names)), "--json")
    assert flat.returncode == 0 and standard.returncode == 0, flat.stderr + standard.stderr
    flat_report, standard_report = json.loads(flat.stdout), json.loads(standard.stdout)
    assert standard_report == flat_report
    assert sum(row["labelled"] for row in standard_report["classes"]) > 0
    assert standard_report["map50"] > 0.5


def test_evaluate_fails_loudly_on_an_empty_folder_or_one_without_labels(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "images").mkdir(parents=True)
    result = run("evaluate", str(empty))
    assert result.returncode != 0 and "no .jpg" in result.stderr
    unlabelled = tmp_path / "unlabelled"
    unlabelled.mkdir()
    (unlabelled / "a.jpg").write_bytes(b"not read: refused before any model runs")
    result = run("evaluate", str(unlabelled))
    assert result.returncode != 0 and "no label file" in result.stderr


@needs_model
def test_dynamic_batch_writes_a_model_that_takes_several_frames_at_once(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    import onnxruntime as ort  # noqa: PLC0415 - only this test needs a session

    target = tmp_path / "dynamic.onnx"
    result = run("dynamic-batch", str(MODEL), str(target))
    assert result.returncode == 0, result.stderr
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    assert not isinstance(session.get_inputs()[0].shape[0], int)  # symbolic: any batch
    assert run("dynamic-batch", str(tmp_path / "missing.onnx"), str(target)).returncode != 0
