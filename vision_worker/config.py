"""Vision settings taken from the one settings object and handed down as plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from config.settings import Settings
from domain.vision.rules import NightWorkConfig, TrackerConfig, ViolationConfig
from vision_worker.detector import DetectorConfig


def _names(csv: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in csv.split(",") if name.strip())


def worker_config(settings: Settings) -> WorkerConfig:
    return WorkerConfig(max_cameras=settings.vision_max_cameras_per_worker)


def registry_dir(settings: Settings) -> Path:
    return settings.vision_model_registry_dir or settings.data_dir / "models"


def detector_config(settings: Settings, *, model_path: Path | None = None) -> DetectorConfig:
    return DetectorConfig(
        model_path=model_path or settings.vision_model_path,
        class_names=_names(settings.vision_class_names),
        ignore_classes=frozenset(_names(settings.vision_ignore_classes)),
        score_threshold=settings.vision_score_threshold,
        intra_op_threads=settings.vision_intra_op_threads,
        providers=_names(settings.vision_execution_providers),
        max_batch=settings.vision_batch_size,
    )


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """Per-camera processing. ``queue_size`` bounds memory: a full queue drops its oldest frame."""

    queue_size: int = 2
    motion_threshold: float = 0.004  # fraction of gate pixels that changed
    motion_refresh_s: float = 10.0  # infer anyway this often, so a still bare head is still seen
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    violation: ViolationConfig = field(default_factory=ViolationConfig)
    night_work: NightWorkConfig = field(default_factory=NightWorkConfig)
    evidence_quality: int = 85


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    lease_ttl_s: float = 15.0
    heartbeat_s: float = 5.0
    rescan_s: float = 10.0
    claim_idle_s: float = 20.0
    max_cameras: int = 64
    stop_timeout_s: float = 5.0  # bound on each await while stopping a camera (tasks, flush, release)
    reconnect_initial_s: float = 1.0
    reconnect_max_s: float = 60.0
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
