"""The batched detector finds what batch 1 finds, on the shared labelled samples.

The shared model has a fixed batch of 1; a dynamic-batch copy is made at test time (in a temporary
folder, never committed) with ``vision_worker.dynamic_batch``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import cv2
import numpy as np
import pytest

from config.settings import Settings
from vision_worker.batching import BatchingInference
from vision_worker.config import detector_config
from vision_worker.detector import OnnxDetector

pytest.importorskip("onnx")
from vision_worker.dynamic_batch import make_batch_dynamic

MODEL = Settings().vision_model_path
SAMPLES = sorted((MODEL.parent / "samples").glob("*.jpg"))
pytestmark = pytest.mark.skipif(not MODEL.exists() or not SAMPLES, reason=f"shared model absent at {MODEL}")


@pytest.fixture(scope="module")
def dynamic_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("model") / "hardhat-dynamic.onnx"
    assert make_batch_dynamic(MODEL, target) > 0
    return target


def images() -> list[np.ndarray]:
    loaded = [cv2.imread(str(path), cv2.IMREAD_COLOR) for path in SAMPLES]
    assert all(image is not None for image in loaded)
    return [np.asarray(image, dtype=np.uint8) for image in loaded]


def test_batched_detections_match_batch_one_on_the_shared_samples(dynamic_model: Path) -> None:
    frames = images()
    single = OnnxDetector(detector_config(Settings(), model_path=MODEL))
    batched = OnnxDetector(detector_config(Settings(vision_batch_size=8), model_path=dynamic_model))
    assert (single.max_batch, batched.max_batch) == (1, 8)
    expected = [single.detect(frame) for frame in frames]
    got = batched.detect_batch(frames)  # 40 frames: 5 runs of 8
    assert sum(len(found) for found in expected) > 100
    for one, many in zip(expected, got, strict=True):
        assert [d.label for d in one] == [d.label for d in many]
        for a, b in zip(one, many, strict=True):
            assert abs(a.score - b.score) <= 1e-4
            assert max(abs(p - q) for p, q in zip(a.box, b.box, strict=True)) <= 1.0


async def test_the_batching_service_keeps_a_batch_one_model_working() -> None:
    frames = images()[:6]
    detector = OnnxDetector(detector_config(Settings(vision_batch_size=8), model_path=MODEL))
    assert detector.max_batch == 1  # fixed batch axis: frames run one by one inside the service
    service = BatchingInference(detector, max_batch=8, max_wait_s=0.01)
    try:
        async with asyncio.timeout(120):
            answers = await asyncio.gather(*(service.detect(frame) for frame in frames))
    finally:
        service.close()
    reference = OnnxDetector(detector_config(Settings(), model_path=MODEL))
    assert answers == [reference.detect(frame) for frame in frames]
