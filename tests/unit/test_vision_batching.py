"""The batching inference service with a scripted detector, and the execution-provider choice."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from domain.vision.rules import Detection
from vision_worker.batching import BatchingInference
from vision_worker.detector import choose_providers

GUARD_S = 10.0


class RecordingBatchDetector:
    """Answers each image with a detection carrying the image's id (its first pixel)."""

    def __init__(self, max_batch: int, *, release: threading.Event | None = None) -> None:
        self.max_batch = max_batch
        self.batches: list[int] = []
        self.release = release

    def detect(self, image: np.ndarray) -> list[Detection]:
        return self.detect_batch([image])[0]

    def detect_batch(self, images: list[np.ndarray]) -> list[list[Detection]]:
        if self.release is not None:
            self.release.wait(GUARD_S)
        self.batches.append(len(images))
        return [[Detection("head", 0.9, (float(image[0, 0, 0]), 0.0, 10.0, 10.0))] for image in images]


def image(ident: int) -> np.ndarray:
    return np.full((8, 8, 3), ident, dtype=np.uint8)


async def test_frames_from_many_cameras_share_batches_and_each_gets_its_own_answer() -> None:
    release = threading.Event()
    detector = RecordingBatchDetector(8, release=release)
    service = BatchingInference(detector, max_batch=8, max_wait_s=0.05)
    try:
        first = asyncio.create_task(service.detect(image(0)))  # occupies the inference thread
        await asyncio.sleep(0.1)
        rest = [asyncio.create_task(service.detect(image(n))) for n in range(1, 17)]  # 16 cameras
        await asyncio.sleep(0.1)
        release.set()
        async with asyncio.timeout(GUARD_S):
            answers = await asyncio.gather(first, *rest)
    finally:
        service.close()
    assert [answer[0].box[0] for answer in answers] == [float(n) for n in range(17)]
    assert sum(detector.batches) == 17 and max(detector.batches) == 8  # never above the limit
    assert len(detector.batches) <= 4  # 1 + 16 frames in batches of up to 8, not 17 runs
    assert service.stats.frames == 17


async def test_a_cancelled_cameras_frame_is_skipped_and_a_failing_batch_fails_only_its_frames() -> None:
    release = threading.Event()
    detector = RecordingBatchDetector(4, release=release)
    service = BatchingInference(detector, max_batch=4, max_wait_s=0.01)
    try:
        busy = asyncio.create_task(service.detect(image(1)))
        await asyncio.sleep(0.05)
        gone = asyncio.create_task(service.detect(image(2)))
        kept = asyncio.create_task(service.detect(image(3)))
        await asyncio.sleep(0.05)
        gone.cancel()  # the camera was stopped while its frame waited
        release.set()
        async with asyncio.timeout(GUARD_S):
            assert (await kept)[0].box[0] == 3.0
            await busy
        assert sum(detector.batches) == 2  # frames 1 and 3; frame 2 never ran

        def broken(images: list[np.ndarray]) -> list[list[Detection]]:
            raise RuntimeError("session failed")

        detector.detect_batch = broken  # type: ignore[method-assign]
        with pytest.raises(RuntimeError):
            async with asyncio.timeout(GUARD_S):
                await service.detect(image(4))
        detector.detect_batch = RecordingBatchDetector(4).detect_batch  # type: ignore[method-assign]
        async with asyncio.timeout(GUARD_S):
            assert (await service.detect(image(5)))[0].box[0] == 5.0  # the service lives on
    finally:
        service.close()


def test_providers_default_to_the_best_available_and_always_keep_cpu() -> None:
    assert choose_providers((), ["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    gpu = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    assert choose_providers((), gpu) == gpu
    assert choose_providers(("CUDAExecutionProvider",), gpu) == [
        "CUDAExecutionProvider",
        "CPUExecutionProvider",
    ]
    # Asked for a provider the machine lacks: CPU, not a failure to start.
    assert choose_providers(("OpenVINOExecutionProvider",), ["CPUExecutionProvider"]) == [
        "CPUExecutionProvider"
    ]
