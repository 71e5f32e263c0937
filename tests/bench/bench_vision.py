"""Vision pipeline benchmark (under a minute): ``python -m tests.bench.bench_vision``.

1. Throughput: the full per-camera pipeline (JPEG decode, motion gate, letterbox, inference in the
   executor, decoding, NMS, tracker, rule) against a bare ``session.run`` loop on an already
   prepared input, same model and same intra-op threads, interleaved in rounds so load changes on a
   shared machine hit both alike. Reported as the ratio of medians (target ≥ 0.9).
2. Motion gate on static footage: one sample with sensor noise and fresh JPEG compression per frame,
   one frame per second for 100 s; the share of frames that skipped inference (target ≥ 80%).
3. Overload: a detector that takes 100 ms fed 400 frames at ~200 frames/s; the queue never grows past
   its bound, traced memory stays flat, and every dropped frame is counted.
4. Batching: 16 cameras streaming through batch 1 (one run per frame) and through the batched
   service (a dynamic-batch copy of the model made in a temp folder, up to 8 frames per run),
   interleaved rounds; inferences/s, their ratio, p99 latency, and cameras per core at 1 fps.
``python -m tests.bench.bench_vision batching`` runs only that section. Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from adapters.memory import MemoryCache
from config.settings import Settings
from domain.vision.rules import Detection, Violation
from domain.vision.services import CameraInfo
from vision_worker.batching import BatchingInference
from vision_worker.config import PipelineConfig, detector_config
from vision_worker.detector import OnnxDetector
from vision_worker.pipeline import CameraPipeline, Frame, InferencePool, InferenceService

ROUNDS = 3
CAMERAS, BATCH, BATCH_ROUNDS, ROUND_S = 16, 8, 2, 4.0
FRAMES_PER_ROUND = 12
T0 = dt.datetime(2026, 5, 1, 2, 0, tzinfo=dt.UTC)
CAMERA = CameraInfo("CAM-BENCH-1", "bench", "WL-2026-0001-S1", "", 0.0, None, True)


class NullSink:
    async def __call__(self, *, camera: CameraInfo, violation: Violation, **_: object) -> int | None:
        return None


class SlowDetector:
    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.calls = 0

    def detect(self, image: np.ndarray) -> list[Detection]:
        self.calls += 1
        time.sleep(self.delay_s)
        return []


def moving_frames(image: np.ndarray, count: int) -> list[bytes]:
    frames = []
    for index in range(count):
        shift = np.array([[1, 0, 3 * (index % 10)], [0, 1, 2 * (index % 10)]], dtype=np.float32)
        moved = cv2.warpAffine(image, shift, (image.shape[1], image.shape[0]), borderValue=(114, 114, 114))
        frames.append(cv2.imencode(".jpg", moved)[1].tobytes())
    return frames


def static_frames(image: np.ndarray, count: int) -> list[bytes]:
    rng = np.random.default_rng(7)
    frames = []
    for _ in range(count):
        noise = rng.normal(0, 2.0, image.shape)
        noisy = np.clip(image.astype(np.float32) + noise, 0, 255).astype(np.uint8)
        frames.append(cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    return frames


def bare_fps(detector: OnnxDetector, image: np.ndarray, count: int) -> float:
    detector.detect(image)  # leaves a prepared input in the buffer
    batch = detector.input_buffer  # the bare loop reuses the prepared input
    session, feeds = detector.session, {detector.input_name: batch}
    started = time.perf_counter()
    for _ in range(count):
        session.run([detector.output_name], feeds)
    return count / (time.perf_counter() - started)


async def pipeline_fps(pipeline: CameraPipeline, frames: Sequence[bytes], offset: int) -> float:
    started = time.perf_counter()
    for index, data in enumerate(frames):
        await pipeline.process(Frame(at=T0 + dt.timedelta(seconds=offset + index), data=data))
    return len(frames) / (time.perf_counter() - started)


async def throughput(settings: Settings, image: np.ndarray) -> dict[str, float]:
    detector = OnnxDetector(detector_config(settings))
    pool = InferencePool([detector])
    config = PipelineConfig(motion_threshold=0.004)
    pipeline = CameraPipeline(
        CAMERA, pool=pool, sink=NullSink(), config=config, cache=MemoryCache(), owner="b"
    )
    frames = moving_frames(image, FRAMES_PER_ROUND)
    bare, full = [], []
    for round_index in range(ROUNDS):
        bare.append(await asyncio.to_thread(bare_fps, detector, image, FRAMES_PER_ROUND))
        full.append(await pipeline_fps(pipeline, frames, round_index * 100))
    pool.close()
    return {
        "bare_session_fps": round(statistics.median(bare), 2),
        "pipeline_fps": round(statistics.median(full), 2),
        "pipeline_to_bare_ratio": round(statistics.median(full) / statistics.median(bare), 3),
        "pipeline_inferences": pipeline.health.inferences,
    }


async def motion_gate(settings: Settings, image: np.ndarray) -> dict[str, float]:
    pool = InferencePool([OnnxDetector(detector_config(settings))])
    config = PipelineConfig(motion_refresh_s=10.0)
    pipeline = CameraPipeline(
        CAMERA, pool=pool, sink=NullSink(), config=config, cache=MemoryCache(), owner="b"
    )
    frames = static_frames(image, 100)
    for index, data in enumerate(frames):
        await pipeline.process(Frame(at=T0 + dt.timedelta(seconds=index), data=data))
    pool.close()
    health = pipeline.health
    return {
        "static_frames": health.frames,
        "static_inferences": health.inferences,
        "motion_skip_rate": round(health.motion_skips / health.frames, 3),
    }


async def overload(image: np.ndarray) -> dict[str, object]:
    detector = SlowDetector(0.1)
    pool = InferencePool([detector])
    config = PipelineConfig(queue_size=2, motion_threshold=0)
    pipeline = CameraPipeline(
        CAMERA, pool=pool, sink=NullSink(), config=config, cache=MemoryCache(), owner="b"
    )
    decoded = np.asarray(image, dtype=np.uint8)
    runner = asyncio.create_task(pipeline.run())
    tracemalloc.start()
    max_queue = 0
    offered = 400
    snapshots = []
    for index in range(offered):
        # Each frame is a fresh full-size copy, as a decoder would hand over.
        await pipeline.offer(Frame(at=T0 + dt.timedelta(milliseconds=5 * index), image=decoded.copy()))
        max_queue = max(max_queue, config.queue_size - pipeline.room())
        if index % 100 == 99:
            snapshots.append(tracemalloc.get_traced_memory()[0])
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.3)
    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    pool.close()
    return {
        "overload_offered": offered,
        "overload_inferred": detector.calls,
        "overload_drops": pipeline.health.drops,
        "overload_max_queue": max_queue,
        "overload_peak_traced_mb": round(peak / 2**20, 2),
        "overload_traced_mb_per_100_frames": [round(value / 2**20, 2) for value in snapshots],
        "drops_accounted": pipeline.health.drops + detector.calls == offered,
    }


async def stream_cameras(
    service: InferenceService, image: np.ndarray, *, cameras: int, seconds: float
) -> list[float]:
    """``cameras`` cameras, each with one frame in flight at a time (as a pipeline awaits its
    detector), for ``seconds``; returns every frame's latency."""
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def camera() -> None:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            await service.detect(image)
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(camera() for _ in range(cameras)))
    return latencies


def _p99(values: list[float]) -> float:
    return float(np.percentile(values, 99)) if values else 0.0


async def batching(settings: Settings, image: np.ndarray) -> dict[str, object]:
    """Batch 1 (the shared model, one run per frame) against the batched service (a dynamic-batch
    copy, up to 8 frames per run), 16 cameras streaming, interleaved rounds on one core each."""
    from vision_worker.dynamic_batch import make_batch_dynamic  # noqa: PLC0415 - onnx, a dev dependency

    with tempfile.TemporaryDirectory() as scratch:
        dynamic = Path(scratch) / "dynamic.onnx"
        make_batch_dynamic(settings.vision_model_path, dynamic)
        single = InferencePool([OnnxDetector(detector_config(settings))])
        batch_settings = settings.model_copy(update={"vision_batch_size": BATCH})
        batched = BatchingInference(
            OnnxDetector(detector_config(batch_settings, model_path=dynamic)),
            max_batch=BATCH,
            max_wait_s=0.02,
        )
        single_lat: list[float] = []
        batched_lat: list[float] = []
        single_s = batched_s = 0.0
        for _ in range(BATCH_ROUNDS):
            started = time.perf_counter()
            single_lat += await stream_cameras(single, image, cameras=CAMERAS, seconds=ROUND_S)
            single_s += time.perf_counter() - started
            started = time.perf_counter()
            batched_lat += await stream_cameras(batched, image, cameras=CAMERAS, seconds=ROUND_S)
            batched_s += time.perf_counter() - started
        single.close()
        batched.close()
    single_rate, batched_rate = len(single_lat) / single_s, len(batched_lat) / batched_s
    threads = settings.vision_intra_op_threads
    per_core = batched_rate / threads  # cameras at 1 fps one core sustains, every frame inferred
    return {
        "cameras_streaming": CAMERAS,
        "batch1_inferences_per_s": round(single_rate, 2),
        "batched_inferences_per_s": round(batched_rate, 2),
        "batched_to_batch1_ratio": round(batched_rate / single_rate, 3),
        "batch1_p99_latency_s": round(_p99(single_lat), 3),
        "batched_p99_latency_s": round(_p99(batched_lat), 3),
        "batched_mean_batch": round(batched.stats.mean_batch, 2),
        "cameras_per_core_at_1fps": round(per_core, 2),
        "cores_for_2700_cameras_at_1fps": math.ceil(2700 / per_core),
    }


async def main() -> int:
    settings = Settings()
    if not settings.vision_model_path.exists():
        print(json.dumps({"bench": "vision", "skipped": f"no model at {settings.vision_model_path}"}))
        return 0
    cv2.setNumThreads(1)
    sample = settings.vision_model_path.parent / "samples" / "hard_hat_workers101.jpg"
    image = cv2.imread(str(sample), cv2.IMREAD_COLOR)
    assert image is not None
    started = time.perf_counter()
    result: dict[str, object] = {"bench": "vision", "intra_op_threads": settings.vision_intra_op_threads}
    sections = sys.argv[1:] or ["pipeline", "batching"]
    if "pipeline" in sections:
        result |= await throughput(settings, image)
        result |= await motion_gate(settings, image)
        result |= await overload(image)
    if "batching" in sections:
        result |= await batching(settings, image)
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
