"""False alarms per camera-day: labelled frame sequences replayed through the worker's own rule."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from config.settings import Settings
from domain.vision.rules import Box, Detection
from tests.vision_frames import BARE_HEADS_SAMPLE, MODEL, frame_jpeg
from vision_worker.config import detector_config
from vision_worker.detector import OnnxDetector
from vision_worker.evaluate import evaluate, false_alarm_line
from vision_worker.false_alarms import SHANGHAI, SequenceFrame, replay, sequence_key

HEAD_BOX: Box = (100.0, 100.0, 140.0, 150.0)
ELSEWHERE: Box = (300.0, 100.0, 340.0, 150.0)


def _frame(camera: str, second: int, *, labelled: tuple[Box, ...], day: int = 4) -> SequenceFrame:
    at = dt.datetime(2026, 12, day, 10, 0, second, tzinfo=SHANGHAI)
    head = Detection("head", 0.8, HEAD_BOX)
    return SequenceFrame(camera, at, f"{camera}_{second}", (head,), labelled, 640, 480)


def test_a_labelled_bare_head_makes_a_true_alarm() -> None:
    report = replay([_frame("CAM1", s, labelled=(HEAD_BOX,)) for s in range(4)])
    assert (report.alarms, report.false_alarms, report.camera_days) == (1, 0, 1)
    assert report.per_camera_day == 0.0


def test_an_unlabelled_head_is_a_false_alarm_per_camera_day() -> None:
    frames = [_frame("CAM1", s, labelled=(ELSEWHERE,)) for s in range(4)]
    frames += [_frame("CAM2", s, labelled=(), day=5) for s in range(4)]
    frames += [_frame("CAM2", s, labelled=(HEAD_BOX,), day=6) for s in range(4)]
    report = replay(frames)
    assert (report.alarms, report.false_alarms, report.camera_days) == (3, 2, 3)
    assert report.per_camera_day == pytest.approx(2 / 3)


def test_the_debounce_holds_a_short_sequence_back() -> None:
    """Two frames are under the rule's three: no alarm, so no false alarm either."""
    report = replay([_frame("CAM1", s, labelled=()) for s in range(2)])
    assert (report.alarms, report.false_alarms) == (0, 0)


def test_frames_are_replayed_in_capture_order_per_camera() -> None:
    """Out of order on disk, a track still grows frame by frame; two cameras never share a track."""
    frames = [_frame("CAM1", s, labelled=(HEAD_BOX,) if s == 2 else ()) for s in (2, 1, 0, 3)]
    frames += [_frame("CAM2", s, labelled=()) for s in (1, 0)]
    report = replay(frames)
    assert (report.alarms, report.sequence_frames, report.camera_days) == (1, 6, 2)
    assert report.false_alarms == 0  # the third frame in time (s=2) raised it, and it is labelled


def test_sequence_names() -> None:
    assert sequence_key("WLCAM000101_20261204_221500_a12") == (
        "WLCAM000101",
        dt.datetime(2026, 12, 4, 22, 15, tzinfo=SHANGHAI),
    )
    assert sequence_key("site_cam-3_20261204_101500") is not None
    assert sequence_key("site_cam-3_20261204_101500")[0] == "site_cam-3"  # type: ignore[index]
    assert sequence_key("hard_hat_workers101") is None
    assert sequence_key("CAM_20261332_256199") is None  # digits, not a time


def test_no_sequence_gives_no_figure() -> None:
    report = replay([], loose_frames=40)
    assert report.per_camera_day is None
    assert "n/a" in false_alarm_line(report)
    assert report.as_json()["false_alarms_per_camera_day"] is None


@pytest.mark.skipif(not MODEL.exists(), reason=f"shared model absent at {MODEL}")
def test_evaluate_counts_false_alarms_on_a_real_sequence(tmp_path: Path) -> None:
    """The shared model on four moving frames of five bare heads: labelled as they are, the alarm is
    true; with the heads left out of the labels (a rejected alarm's hard negatives), it is false."""
    config = detector_config(Settings(), model_path=MODEL)
    detector = OnnxDetector(config)
    label_lines = BARE_HEADS_SAMPLE.with_suffix(".txt").read_text()
    for name, labels in (("true", label_lines), ("false", _without_heads(label_lines))):
        folder = tmp_path / name
        (folder / "images").mkdir(parents=True)
        (folder / "labels").mkdir()
        for index in range(4):
            stem = f"WLCAM000101_20261204_10000{index}"
            (folder / "images" / f"{stem}.jpg").write_bytes(frame_jpeg(index))
            (folder / "labels" / f"{stem}.txt").write_text(labels)
        shutil.copy(BARE_HEADS_SAMPLE, folder / "images" / "loose.jpg")
        result = evaluate(
            folder,
            lambda image, floor: detector.detect(image, threshold=floor),
            class_names=config.class_names,
            labels=["head", "helmet"],
            threshold=config.score_threshold,
        )
        figures = result.false_alarms
        assert (figures.alarms, figures.camera_days, figures.loose_frames) == (1, 1, 1)
        assert figures.false_alarms == (1 if name == "false" else 0)
        assert result.as_json()["false_alarms"]["false_alarms_per_camera_day"] == figures.false_alarms  # type: ignore[index]


def _without_heads(lines: str) -> str:
    return "".join(line + "\n" for line in lines.splitlines() if not line.startswith("0 "))
