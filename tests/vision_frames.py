"""Camera frames for tests that go through the real model: a shared sample with five clear bare
heads, shifted a little each frame (people move, so the motion gate lets every frame through)."""

from __future__ import annotations

import cv2
import numpy as np

from config.settings import Settings

MODEL = Settings().vision_model_path
BARE_HEADS_SAMPLE = MODEL.parent / "samples" / "hard_hat_workers101.jpg"


def frame_jpeg(index: int) -> bytes:
    image = cv2.imread(str(BARE_HEADS_SAMPLE), cv2.IMREAD_COLOR)
    assert image is not None, f"cannot read {BARE_HEADS_SAMPLE}"
    shift = np.array([[1, 0, 2 * index], [0, 1, index]], dtype=np.float32)
    moved = cv2.warpAffine(image, shift, (image.shape[1], image.shape[0]), borderValue=(114, 114, 114))
    return bytes(cv2.imencode(".jpg", moved)[1].tobytes())
