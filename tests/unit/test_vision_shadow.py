"""Shadow mode with scripted detectors: agreement figures, sampling, failures, and no shadow alarms."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Sequence

import numpy as np
import pytest

from adapters.memory import MemoryCache, MemoryLock
from domain.vision.rules import Detection, ViolationConfig
from domain.vision.shadow import (
    ClassAgreement,
    ShadowTally,
    compare,
    load_tally,
    merge_tally,
    shadow_key,
)
from tests.unit.test_vision_pipeline import RecordingSink, ScriptedDetector, camera, noisy_frame
from vision_worker.config import PipelineConfig
from vision_worker.detector import Detector
from vision_worker.pipeline import CameraPipeline, Frame, InferencePool
from vision_worker.shadow import ShadowConfig, ShadowInference

T0 = dt.datetime(2026, 5, 1, 2, 0, tzinfo=dt.UTC)
HEAD = Detection("head", 0.9, (100.0, 100.0, 140.0, 140.0))
HELMET = Detection("helmet", 0.8, (200.0, 100.0, 240.0, 140.0))


def moved(detection: Detection, dx: float, score: float | None = None) -> Detection:
    x1, y1, x2, y2 = detection.box
    return Detection(detection.label, detection.score if score is None else score, (x1 + dx, y1, x2 + dx, y2))


# --- the pure comparison --------------------------------------------------------------------------
def test_identical_detections_agree_perfectly() -> None:
    frame = compare([HEAD, HELMET], [HEAD, HELMET])
    assert frame.current_head and frame.shadow_head
    assert frame.classes == {"head": ClassAgreement(1, 1, 1), "helmet": ClassAgreement(1, 1, 1)}
    assert frame.score_deltas == (0.0, 0.0)


def test_boxes_pair_one_to_one_at_iou_half_per_class() -> None:
    shadow = [
        moved(HEAD, 5, score=0.7),  # IoU 0.78: the same head, 0.2 less sure
        moved(HEAD, 30),  # IoU 0.14: another head
        Detection("helmet", 0.8, HEAD.box),  # same place, other class: no pair
    ]
    frame = compare([HEAD, moved(HEAD, 6)], shadow)  # two current boxes on the one shadow head
    assert frame.classes["head"] == ClassAgreement(current=2, shadow=2, matched=1)
    assert frame.classes["helmet"] == ClassAgreement(current=0, shadow=1, matched=0)
    assert frame.score_deltas == pytest.approx((-0.2,))


def test_bare_head_presence_is_judged_per_frame() -> None:
    only_current = compare([HEAD], [HELMET])
    assert only_current.current_head and not only_current.shadow_head
    tally = ShadowTally("v2", "v1")
    for frame in (only_current, compare([HELMET], [HEAD]), compare([HEAD], [HEAD]), compare([], [])):
        tally = tally.add(frame)
    counts = (tally.head_both, tally.head_current_only, tally.head_shadow_only, tally.head_neither)
    assert tally.frames == 4 and counts == (1, 1, 1, 1)
    assert tally.head_agreement == 0.5
    assert tally.classes["head"].agreement == 0.5  # heads: 2 current, 2 shadow, 1 pair


def test_tallies_merge_and_survive_json() -> None:
    one = ShadowTally("v2", "v1").add(compare([HEAD], [moved(HEAD, 2, score=0.8)])).count(errors=1)
    two = ShadowTally("v2", "v1").add(compare([HELMET], [])).count(sampled_out=3, busy_skips=2)
    merged = one.merge(two)
    assert merged.frames == 2 and merged.errors == 1 and merged.sampled_out == 3 and merged.busy_skips == 2
    assert merged.classes["helmet"] == ClassAgreement(1, 0, 0)
    assert merged.mean_score_delta == pytest.approx(-0.1)
    assert ShadowTally.from_json(merged.to_json()) == merged
    with pytest.raises(ValueError, match="different model pairs"):
        merged.merge(ShadowTally("v3", "v1"))


async def test_workers_merge_into_one_tally_and_a_busy_merge_keeps_the_figures() -> None:
    cache, lock = MemoryCache(), MemoryLock()
    frame = compare([HEAD], [HEAD])
    assert await merge_tally(cache, lock, ShadowTally("v2", "v1").add(frame), owner="worker-a")
    assert await merge_tally(cache, lock, ShadowTally("v2", "v1").add(frame).add(frame), owner="worker-b")
    stored = await load_tally(cache, "v2", "v1")
    assert stored.frames == 3 and stored.head_both == 3
    assert await cache.get(shadow_key("v2", "v0")) is None  # per (shadow, current) pair

    await lock.acquire("vision:shadow-merge:v2:v1", "worker-c", 10)  # another worker mid-merge
    assert not await merge_tally(cache, lock, ShadowTally("v2", "v1").add(frame), owner="worker-a")
    assert (await load_tally(cache, "v2", "v1")).frames == 3


# --- the shadow beside the current model ----------------------------------------------------------
class FailingDetector:
    def __init__(self) -> None:
        self.calls = 0

    def detect(self, image: np.ndarray) -> list[Detection]:
        self.calls += 1
        raise RuntimeError("shadow session broke")


class GatedDetector(ScriptedDetector):
    """Holds every call until released: a shadow slower than the frames."""

    def __init__(self, detections: Sequence[Detection]) -> None:
        super().__init__(detections)
        self.release = threading.Event()

    def detect(self, image: np.ndarray) -> list[Detection]:
        self.release.wait(5)
        return super().detect(image)


def shadowed(
    current: ScriptedDetector, shadow: Detector, *, fraction: float = 1.0, max_pending: int = 2
) -> tuple[ShadowInference, MemoryCache]:
    cache = MemoryCache()
    config = ShadowConfig("v2", "v1", sample_fraction=fraction, max_pending=max_pending, flush_s=3600)
    service = ShadowInference(
        InferencePool([current]),
        shadow,
        config=config,
        cache=cache,
        lock=MemoryLock(),
        owner="w",
    )
    return service, cache


async def test_the_shadow_never_alarms_and_its_disagreement_is_recorded() -> None:
    current, shadow = (
        ScriptedDetector([HELMET]),
        ScriptedDetector([HEAD, HELMET]),
    )  # the shadow sees a bare head
    service, cache = shadowed(current, shadow)
    sink = RecordingSink()
    config = PipelineConfig(motion_threshold=0, violation=ViolationConfig(min_frames=3))
    pipeline = CameraPipeline(
        camera(), pool=service, sink=sink, config=config, cache=MemoryCache(), owner="w"
    )
    for index in range(8):
        await pipeline.process(Frame(at=T0 + dt.timedelta(seconds=index), image=noisy_frame(index)))
    await service.drain()
    assert sink.violations == []  # the shadow's bare head never reaches the rule
    assert shadow.calls == current.calls == 8
    assert all(name.startswith("vision-shadow") for name in shadow.threads)
    assert await service.flush()
    service.close()
    tally = await load_tally(cache, "v2", "v1")
    assert tally.frames == 8 and tally.head_shadow_only == 8 and tally.head_both == 0
    assert tally.classes["helmet"] == ClassAgreement(8, 8, 8)
    assert tally.classes["head"] == ClassAgreement(0, 8, 0)


async def test_the_current_model_alone_decides_alarms() -> None:
    current, shadow = ScriptedDetector([HEAD]), ScriptedDetector([])
    service, _cache = shadowed(current, shadow)
    sink = RecordingSink()
    config = PipelineConfig(motion_threshold=0, violation=ViolationConfig(min_frames=3))
    pipeline = CameraPipeline(
        camera(), pool=service, sink=sink, config=config, cache=MemoryCache(), owner="w"
    )
    for index in range(5):
        await pipeline.process(Frame(at=T0 + dt.timedelta(seconds=index), image=noisy_frame(index)))
    await service.drain()
    service.close()
    assert len(sink.violations) == 1  # exactly what the current model alone raises
    assert service.unflushed.head_current_only == 5


async def test_only_inferred_frames_reach_the_shadow_and_sampling_takes_its_share() -> None:
    current, shadow = ScriptedDetector([HEAD]), ScriptedDetector([HEAD])
    service, _cache = shadowed(current, shadow, fraction=0.25)
    pipeline = CameraPipeline(
        camera(), pool=service, sink=RecordingSink(), config=PipelineConfig(motion_refresh_s=10),
        cache=MemoryCache(), owner="w",
    )  # fmt: skip
    for index in range(80):  # a still scene: the motion gate lets one frame in 10 through
        await pipeline.process(Frame(at=T0 + dt.timedelta(seconds=index), image=noisy_frame(1)))
    await service.drain()
    service.close()
    assert current.calls == 8 and shadow.calls == 2
    assert service.unflushed.frames == 2 and service.unflushed.sampled_out == 6


async def test_a_failing_shadow_is_counted_and_the_current_answers_stand() -> None:
    failing = FailingDetector()
    service, _cache = shadowed(ScriptedDetector([HEAD]), failing)
    answers = [await service.detect(noisy_frame(index)) for index in range(3)]
    await service.drain()
    service.close()
    assert answers == [[HEAD]] * 3
    assert failing.calls == 3 and service.unflushed.errors == 3 and service.unflushed.frames == 0


async def test_a_slow_shadow_is_skipped_not_queued() -> None:
    slow = GatedDetector([HEAD])
    service, _cache = shadowed(ScriptedDetector([HEAD]), slow, max_pending=1)
    async with asyncio.timeout(5):
        for index in range(5):  # the current model answers at once each time
            assert await service.detect(noisy_frame(index)) == [HEAD]
    slow.release.set()
    await service.drain()
    service.close()
    assert slow.calls == 1 and service.unflushed.busy_skips == 4 and service.unflushed.frames == 1


async def test_figures_that_cannot_be_stored_are_kept_for_the_next_flush() -> None:
    service, cache = shadowed(ScriptedDetector([HEAD]), ScriptedDetector([HEAD]))
    await service.detect(noisy_frame(0))
    await service.drain()
    lock = MemoryLock()
    service._lock = lock  # another worker holds the merge lease
    await lock.acquire("vision:shadow-merge:v2:v1", "other", 10)
    assert not await service.flush()
    assert service.unflushed.frames == 1
    await lock.release("vision:shadow-merge:v2:v1", "other")
    await service.aclose()
    assert (await load_tally(cache, "v2", "v1")).frames == 1
