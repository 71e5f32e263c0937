"""Shadow mode on the real model (issue 20): a second model runs on the same live frames, raises no
alarm, and its agreement figures are recorded where ``models agreement`` reads them; a promotion
needs them.

The shadow is the shared model registered a second time, so the figures must show perfect agreement.
With ``REDIS_URL`` the figures go through Redis and the operator commands read them back from there.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from adapters.infrastructure import Infrastructure
from adapters.media_store import LocalMediaStore, MediaStore
from adapters.memory import MemoryCache
from config.container import build_infrastructure
from config.settings import REPO_ROOT, Settings
from domain.vision.rules import Violation
from domain.vision.shadow import load_tally
from tests.conftest import make_settings
from tests.unit.test_vision_pipeline import RecordingSink, camera
from vision_worker.config import PipelineConfig, detector_config, registry_dir
from vision_worker.detector import OnnxDetector
from vision_worker.pipeline import CameraPipeline, Frame, InferencePool, InferenceService
from vision_worker.registry import ModelRegistry, ModelStatus, PromotionRefused
from vision_worker.service import build_worker
from vision_worker.shadow import ShadowInference

MODEL = Settings().vision_model_path
SAMPLES = sorted((MODEL.parent / "samples").glob("*.jpg"))[:6]
REPEATS = 3  # each scene three times: the no_hardhat rule wants three observations of a track
pytestmark = pytest.mark.skipif(not MODEL.exists() or not SAMPLES, reason=f"shared model absent at {MODEL}")


@dataclass
class Runtime:
    settings: Settings
    infra: Infrastructure
    media: MediaStore


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    url = os.environ.get("REDIS_URL")
    settings = make_settings(tmp_path, redis_url=url or None, vision_model_registry_dir=tmp_path / "registry")
    infra, closers = build_infrastructure(settings)
    yield Runtime(settings, infra, LocalMediaStore(tmp_path / "media"))
    for close in closers:
        await close()


def frames() -> list[Frame]:
    played: list[Frame] = []
    for index, path in enumerate(SAMPLES):
        image = np.asarray(cv2.imread(str(path), cv2.IMREAD_COLOR), dtype=np.uint8)
        # Scenes 200 s apart: past the camera cooldown, so each scene may raise its own alarm.
        start = dt.datetime(2026, 5, 1, 2, 0, tzinfo=dt.UTC) + dt.timedelta(seconds=200 * index)
        played.extend(Frame(at=start + dt.timedelta(seconds=step), image=image) for step in range(REPEATS))
    return played


async def play(pool: InferenceService) -> list[Violation]:
    sink = RecordingSink()
    config = PipelineConfig(motion_threshold=0)
    pipeline = CameraPipeline(camera(), pool=pool, sink=sink, config=config, cache=MemoryCache(), owner="w")
    for frame in frames():
        await pipeline.process(frame)
    return [violation for _code, violation in sink.violations]


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATA_DIR": str(settings.data_dir),
        "VISION_MODEL_REGISTRY_DIR": str(settings.vision_model_registry_dir),
        "REDIS_URL": settings.redis_url or "",
        "REDIS_KEY_PREFIX": settings.redis_key_prefix,
    }
    return subprocess.run(
        [sys.executable, "-m", "vision_worker", "models", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_a_shadow_raises_no_alarm_and_its_agreement_is_recorded(runtime: Runtime) -> None:
    settings = runtime.settings
    registry = ModelRegistry(registry_dir(settings))
    registry.register(MODEL, version="hardhat-v1")
    registry.promote("hardhat-v1")  # the first model of the registry needs no agreement
    registry.register(MODEL, version="hardhat-v2")
    registry.set_shadow("hardhat-v2")
    with pytest.raises(PromotionRefused):
        registry.promote("hardhat-v2")  # nothing compared yet

    # What the current model alone raises on these frames.
    alone = InferencePool([OnnxDetector(detector_config(settings, model_path=MODEL))])
    try:
        expected = await play(alone)
    finally:
        alone.close()
    assert expected, "the samples should raise no_hardhat alarms"

    _worker, pool = await build_worker(runtime, worker_id="shadow-test")  # as the worker wires it
    assert isinstance(pool, ShadowInference)
    assert (pool.config.shadow_version, pool.config.current_version) == ("hardhat-v2", "hardhat-v1")
    try:
        raised = await play(pool)
    finally:
        await pool.aclose()  # waits for the shadow, stores the figures
    assert raised == expected  # exactly the current model's alarms: none from the shadow

    tally = await load_tally(runtime.infra.cache, "hardhat-v2", "hardhat-v1")
    assert tally.frames == len(SAMPLES) * REPEATS  # every inferred frame compared
    assert tally.errors == tally.sampled_out == tally.busy_skips == 0
    assert tally.head_both > 0 and tally.head_current_only == tally.head_shadow_only == 0
    assert tally.head_agreement == 1.0
    assert set(tally.classes) == {"head", "helmet"}
    for counts in tally.classes.values():
        assert counts.current == counts.shadow == counts.matched > 0
    assert tally.mean_abs_score_delta is not None and tally.mean_abs_score_delta <= 1e-6

    if not settings.redis_url:
        return  # the commands read the figures from Redis
    shown = cli(settings, "agreement", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == tally.summary()
    promoted = cli(settings, "promote", "hardhat-v2")
    assert promoted.returncode == 0, promoted.stderr
    assert registry.current() is not None and registry.current().version == "hardhat-v2"  # type: ignore[union-attr]
    assert registry.get("hardhat-v1").status is ModelStatus.RETIRED
    assert (registry.get("hardhat-v2").agreement or {})["head"]["agreement"] == 1.0


def test_register_with_evaluate_stores_the_metrics_and_promote_refuses_without_figures(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "val"
    folder.mkdir()
    for path in SAMPLES[:3]:
        for suffix in (".jpg", ".txt"):
            (folder / f"{path.stem}{suffix}").write_bytes(path.with_suffix(suffix).read_bytes())
    settings = make_settings(tmp_path, vision_model_registry_dir=tmp_path / "registry")
    registered = cli(settings, "register", str(MODEL), "--version", "city-v1", "--evaluate", str(folder))
    assert registered.returncode == 0, registered.stderr
    assert "registered city-v1" in registered.stdout and "mAP@0.5" in registered.stdout
    entry = ModelRegistry(tmp_path / "registry").get("city-v1")
    report = entry.metrics["evaluate"]
    assert {row["class"] for row in report["classes"]} == {"head", "helmet"} and report["map50"] > 0.5
    assert cli(settings, "promote", "city-v1").returncode == 0  # the first one
    assert cli(settings, "register", str(MODEL), "--version", "city-v2").returncode == 0
    refused = cli(settings, "promote", "city-v2")
    assert refused.returncode == 1 and "no shadow agreement" in refused.stderr
    listing = cli(settings, "list")
    assert listing.returncode == 0
    rows = {line.split()[0]: line.split()[1] for line in listing.stdout.splitlines()[1:]}
    assert rows == {"city-v1": "current", "city-v2": "candidate"}
