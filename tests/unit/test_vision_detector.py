"""Detector: letterbox, both output layouts, class-agnostic NMS, and the shared model on labelled frames."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from config.settings import Settings
from domain.vision.rules import iou
from vision_worker.config import detector_config
from vision_worker.detector import (
    PAD_VALUE,
    Image,
    OnnxDetector,
    OutputLayout,
    Preprocessor,
    decode,
    letterbox_geometry,
    nms,
    resolve_layout,
)
from vision_worker.evaluate import average_precision, evaluate_folder, read_labels

MODEL = Settings().vision_model_path
SAMPLES = MODEL.parent / "samples"
needs_model = pytest.mark.skipif(not MODEL.exists(), reason=f"shared model absent at {MODEL}")
CLASSES = ("head", "helmet", "person")
ACTIVE = np.array([0, 1], dtype=np.intp)


def test_letterbox_keeps_aspect_and_centres() -> None:
    box = letterbox_geometry(640, 480, 416)
    assert (box.width, box.height) == (416, 312)
    assert (box.left, box.top) == (0, 52)


def test_preprocessor_fills_rgb_scaled_and_padded() -> None:
    image = np.zeros((480, 640, 3), dtype=np.uint8)
    image[..., 2] = 255  # red in BGR
    prep = Preprocessor(416)
    box = prep(image)
    buffer = prep.buffer
    assert buffer.shape == (1, 3, 416, 416) and buffer.dtype == np.float32
    assert buffer[0, 0, 200, 200] == pytest.approx(1.0)  # R channel first
    assert buffer[0, 2, 200, 200] == pytest.approx(0.0)
    assert buffer[0, 0, 10, 10] == pytest.approx(PAD_VALUE)  # top padding band
    assert box.top == 52


def _v8_output(rows: list[tuple[float, float, float, float, float, float, float]]) -> np.ndarray:
    return np.array(rows, dtype=np.float32).T[None, ...]  # [1, 7, N]


def test_yolov8_layout_decodes_and_ignores_person_column() -> None:
    output = _v8_output([(100, 100, 20, 20, 0.9, 0.1, 0.0), (300, 300, 40, 40, 0.2, 0.3, 0.99)])
    assert resolve_layout(output.shape, 3, OutputLayout.AUTO) is OutputLayout.YOLOV8
    boxes, scores, classes = decode(output, layout=OutputLayout.YOLOV8, active=ACTIVE, threshold=0.25)
    assert boxes.tolist() == [[90, 90, 110, 110], [280, 280, 320, 320]]
    assert scores.tolist() == pytest.approx([0.9, 0.3])
    assert [CLASSES[c] for c in classes] == ["head", "helmet"]  # person's 0.99 never wins


def test_yolov5_layout_multiplies_objectness() -> None:
    output = np.array(
        [[[100, 100, 20, 20, 0.5, 0.9, 0.1, 0.0], [50, 50, 10, 10, 0.1, 0.9, 0.1, 0.0]]], np.float32
    )
    assert resolve_layout(output.shape, 3, OutputLayout.AUTO) is OutputLayout.YOLOV5
    boxes, scores, classes = decode(output, layout=OutputLayout.YOLOV5, active=ACTIVE, threshold=0.25)
    assert len(boxes) == 1 and scores[0] == pytest.approx(0.45) and classes[0] == 0


def test_nms_is_class_agnostic() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], dtype=np.float32)
    scores = np.array([0.6, 0.9, 0.5], dtype=np.float32)
    # Box 0 (say, helmet) and box 1 (head) overlap: only the higher score survives, whatever the class.
    assert nms(boxes, scores, iou_threshold=0.5, limit=10) == [1, 2]


def test_average_precision_perfect_and_half() -> None:
    assert average_precision([0.9, 0.8], [True, True], 2) == pytest.approx(1.0)
    assert average_precision([0.9, 0.8], [True, False], 2) == pytest.approx(0.5)


def read(path: Path) -> Image:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None
    return np.asarray(image, dtype=np.uint8)


@pytest.fixture(scope="module")
def detector() -> OnnxDetector:
    return OnnxDetector(detector_config(Settings(vision_model_path=MODEL)))


@needs_model
def test_detector_finds_the_hand_labelled_heads_and_helmets(detector: OnnxDetector) -> None:
    found = total = 0
    for image_path in sorted(SAMPLES.glob("*.jpg")):
        image = read(image_path)
        height, width = image.shape[:2]
        truths = read_labels(image_path.with_suffix(".txt"), width=width, height=height, class_names=CLASSES)
        detections = detector.detect(image)
        for truth in truths:
            if truth.label == "person":  # untrained class
                continue
            total += 1
            found += any(d.label == truth.label and iou(d.box, truth.box) >= 0.5 for d in detections)
    # The model card promises recall ~0.73-0.79 per class at this threshold; decoding errors fall far below.
    assert total == 181
    assert found / total >= 0.7


@needs_model
def test_first_sample_boxes_match_labels_closely(detector: OnnxDetector) -> None:
    image_path = SAMPLES / "hard_hat_workers101.jpg"
    image = read(image_path)
    truths = read_labels(image_path.with_suffix(".txt"), width=416, height=416, class_names=CLASSES)
    detections = detector.detect(image)
    for truth in truths[:4]:  # the four large, clear bare heads
        best = max(iou(d.box, truth.box) for d in detections if d.label == "head")
        assert best >= 0.6


@needs_model
def test_letterboxed_input_maps_boxes_back_to_image_pixels(detector: OnnxDetector) -> None:
    image = read(SAMPLES / "hard_hat_workers101.jpg")
    wide = np.concatenate([image, np.zeros_like(image)], axis=1)  # 832x416, content on the left
    plain = detector.detect(image)
    padded = detector.detect(wide)
    top = max(plain, key=lambda d: d.score)
    assert max(iou(top.box, d.box) for d in padded) >= 0.7


@needs_model
def test_evaluate_on_shared_samples(detector: OnnxDetector, tmp_path: Path) -> None:
    reports = evaluate_folder(
        SAMPLES,
        lambda image, floor: detector.detect(image, threshold=floor),
        class_names=CLASSES,
        labels=["head", "helmet"],
        threshold=0.35,
    )
    by_label = {r.label: r for r in reports}
    assert by_label["head"].labelled == 50 and by_label["helmet"].labelled == 131
    for report in reports:
        assert report.ap50 >= 0.75 and report.precision >= 0.8 and report.recall >= 0.65
