"""Wiring of the worker from a runtime: detectors, inference pool, alarm outcome, worker identity.

``run_worker(runtime)`` is the embedded worker registered in ``config.workers``; production runs the
same coroutine alone through the composition root (one process per spare core, each with
``VISION_INTRA_OP_THREADS=1``), since an entry point may not import the composition root.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from typing import Protocol

from adapters.infrastructure import Infrastructure
from adapters.media_store import MediaStore
from config.settings import Settings
from domain.vision import services as vision
from vision_worker.batching import BatchingInference
from vision_worker.config import WorkerConfig, detector_config, worker_config
from vision_worker.detector import OnnxDetector
from vision_worker.outcome import AlarmOutcome, NightWorkOutcome
from vision_worker.pipeline import InferencePool, InferenceService
from vision_worker.worker import VisionWorker

log = logging.getLogger(__name__)


class RuntimeLike(Protocol):
    settings: Settings
    infra: Infrastructure
    media: MediaStore


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


async def build_worker(
    runtime: RuntimeLike,
    *,
    config: WorkerConfig | None = None,
    detectors: int = 1,
    worker_id: str | None = None,
) -> tuple[VisionWorker, InferenceService]:
    settings = runtime.settings
    config = config or worker_config(settings)
    detector_settings = detector_config(settings)
    pool: InferenceService
    # Loading a model takes a while: off the event loop.
    if settings.vision_batch_size > 1:
        # One session for every camera of this process, fed in batches.
        pool = BatchingInference(
            await asyncio.to_thread(OnnxDetector, detector_settings),
            max_batch=settings.vision_batch_size,
            max_wait_s=settings.vision_batch_wait_ms / 1000,
        )
    else:
        pool = InferencePool(
            [await asyncio.to_thread(OnnxDetector, detector_settings) for _ in range(detectors)]
        )
    sink = AlarmOutcome(
        bus=runtime.infra.bus,
        dedup=runtime.infra.dedup,
        media=runtime.media,
        camera_cooldown_s=config.pipeline.violation.camera_cooldown_s,
        score_threshold=config.pipeline.violation.min_median_score,
    )
    worker = VisionWorker(
        worker_id=worker_id or new_worker_id(),
        bus=runtime.infra.bus,
        lock=runtime.infra.lock,
        cache=runtime.infra.cache,
        cameras=vision.list_cameras,
        pool=pool,
        sink=sink,
        night_sink=NightWorkOutcome(
            bus=runtime.infra.bus,
            dedup=runtime.infra.dedup,
            media=runtime.media,
            cooldown_s=config.pipeline.night_work.cooldown_s,
        ),
        config=config,
    )
    return worker, pool


async def run_worker(runtime: RuntimeLike) -> None:
    if not runtime.settings.vision_model_path.exists():
        log.warning("vision worker off: no model at %s", runtime.settings.vision_model_path)
        return
    worker, pool = await build_worker(runtime)
    try:
        await worker.run()
    finally:
        pool.close()
