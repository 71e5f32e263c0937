"""Wiring of the worker from a runtime: detectors, inference pool, alarm outcome, worker identity.

The models come from the registry (``vision_worker.registry``) when it names a current version, else
from ``VISION_MODEL_PATH``; a registry shadow version wraps the pool in ``ShadowInference``.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from adapters.infrastructure import Infrastructure
from adapters.media_store import MediaStore
from config.settings import Settings
from domain.vision import services as vision
from vision_worker.batching import BatchingInference
from vision_worker.config import WorkerConfig, detector_config, registry_dir, worker_config
from vision_worker.detector import Detector, OnnxDetector
from vision_worker.outcome import AlarmOutcome, NightWorkOutcome
from vision_worker.pipeline import InferencePool, InferenceService
from vision_worker.registry import ModelRegistry, file_sha256
from vision_worker.shadow import ShadowConfig, ShadowInference
from vision_worker.worker import VisionWorker

log = logging.getLogger(__name__)


class RuntimeLike(Protocol):
    settings: Settings
    infra: Infrastructure
    media: MediaStore


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """The model the worker alarms on and, when the registry names one, its shadow."""

    current_path: Path
    current_version: str
    shadow_path: Path | None = None
    shadow_version: str | None = None


def choose_models(settings: Settings) -> ModelChoice:
    """The registry's current version, else ``VISION_MODEL_PATH`` (named by its content, so that the
    shadow figures say which model they were measured against). Blocking: reads files."""
    registry = ModelRegistry(registry_dir(settings))
    current = registry.current()
    if current is not None:
        path, version = registry.model_path(current), current.version
    else:
        path = settings.vision_model_path
        version = f"file-{file_sha256(path)[:12]}" if path.is_file() else "file-missing"
    shadow = registry.shadow() if settings.vision_shadow_sample_fraction > 0 else None
    if shadow is None:
        return ModelChoice(path, version)
    return ModelChoice(path, version, registry.model_path(shadow), shadow.version)


async def _with_shadow(
    runtime: RuntimeLike, pool: InferenceService, models: ModelChoice, *, owner: str
) -> InferenceService:
    """Wrap the pool with the shadow model; a shadow that cannot load leaves the pool as it was."""
    if models.shadow_path is None or models.shadow_version is None:
        return pool
    settings = runtime.settings
    try:
        shadow: Detector = await asyncio.to_thread(
            OnnxDetector, detector_config(settings, model_path=models.shadow_path)
        )
    except Exception:
        log.exception("shadow model %s not loaded; running without a shadow", models.shadow_version)
        return pool
    log.info(
        "shadow model %s beside %s on %.0f%% of inferred frames",
        models.shadow_version,
        models.current_version,
        100 * settings.vision_shadow_sample_fraction,
    )
    config = ShadowConfig(
        shadow_version=models.shadow_version,
        current_version=models.current_version,
        sample_fraction=settings.vision_shadow_sample_fraction,
    )
    infra = runtime.infra
    return ShadowInference(pool, shadow, config=config, cache=infra.cache, lock=infra.lock, owner=owner)


async def build_worker(
    runtime: RuntimeLike,
    *,
    config: WorkerConfig | None = None,
    detectors: int = 1,
    worker_id: str | None = None,
) -> tuple[VisionWorker, InferenceService]:
    settings = runtime.settings
    config = config or worker_config(settings)
    worker_id = worker_id or new_worker_id()
    models = await asyncio.to_thread(choose_models, settings)
    detector_settings = detector_config(settings, model_path=models.current_path)
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
    pool = await _with_shadow(runtime, pool, models, owner=worker_id)
    sink = AlarmOutcome(
        bus=runtime.infra.bus,
        dedup=runtime.infra.dedup,
        media=runtime.media,
        camera_cooldown_s=config.pipeline.violation.camera_cooldown_s,
        score_threshold=config.pipeline.violation.min_median_score,
    )
    worker = VisionWorker(
        worker_id=worker_id,
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
    models = await asyncio.to_thread(choose_models, runtime.settings)
    if not models.current_path.exists():
        log.warning("vision worker off: no model at %s", models.current_path)
        return
    worker, pool = await build_worker(runtime)
    try:
        await worker.run()
    finally:
        if isinstance(pool, ShadowInference):
            await pool.aclose()  # bounded: stores this worker's last shadow figures
        else:
            pool.close()
