"""Shadow-model agreement: how often a candidate model agrees with the model in service on live frames.

A shadow model runs on the frames the current model infers and never raises an alarm; each compared
frame adds to a tally. ``compare`` is pure (two detection lists in, one frame's agreement out) and
``ShadowTally`` is a value that adds frames and merges tallies, so both are tested in milliseconds.

The tallies of every worker are merged in the cache port under one key per shadow version and current
version (``vision:shadow:<shadow>:<current>``): figures against another baseline mean nothing. The
cache port has no atomic increment, so a merge is a read-add-write under a short lease of the lock
port; a worker that does not get the lease keeps its figures and adds them at its next flush, so
nothing is counted twice or lost.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace

from domain.ports import Cache, Lock
from domain.vision.rules import HEAD, Detection, iou

SHADOW_KEY_PREFIX = "vision:shadow:"
SHADOW_MERGE_LOCK_PREFIX = "vision:shadow-merge:"
SHADOW_TTL_S = 90 * 24 * 3600.0  # a shadow runs for days or weeks before a promotion decision
MERGE_LEASE_S = 10.0
MATCH_IOU = 0.5


def shadow_key(shadow_version: str, current_version: str) -> str:
    return f"{SHADOW_KEY_PREFIX}{shadow_version}:{current_version}"


@dataclass(frozen=True, slots=True)
class ClassAgreement:
    """Boxes of one class: found by the current model, by the shadow, and paired at IoU ≥ 0.5."""

    current: int = 0
    shadow: int = 0
    matched: int = 0

    def plus(self, other: ClassAgreement) -> ClassAgreement:
        return ClassAgreement(
            self.current + other.current, self.shadow + other.shadow, self.matched + other.matched
        )

    @property
    def agreement(self) -> float:
        """Dice overlap of the two box sets: 1.0 when every box has its pair (or neither found any)."""
        total = self.current + self.shadow
        return 1.0 if total == 0 else 2 * self.matched / total


@dataclass(frozen=True, slots=True)
class FrameAgreement:
    current_head: bool  # the current model found a bare head
    shadow_head: bool
    classes: Mapping[str, ClassAgreement]
    score_deltas: tuple[float, ...]  # shadow score minus current score, per matched pair


def _pairs(
    current: Sequence[Detection], shadow: Sequence[Detection], threshold: float
) -> list[tuple[int, int]]:
    """Greedy one-to-one pairing, best IoU first (both lists are of one class)."""
    candidates = sorted(
        (
            (overlap, i, j)
            for i, a in enumerate(current)
            for j, b in enumerate(shadow)
            if (overlap := iou(a.box, b.box)) >= threshold
        ),
        key=lambda item: -item[0],
    )
    used_current: set[int] = set()
    used_shadow: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for _overlap, i, j in candidates:
        if i not in used_current and j not in used_shadow:
            used_current.add(i)
            used_shadow.add(j)
            pairs.append((i, j))
    return pairs


def compare(
    current: Sequence[Detection],
    shadow: Sequence[Detection],
    *,
    violation_class: str = HEAD,
    iou_threshold: float = MATCH_IOU,
) -> FrameAgreement:
    """One frame: does each model see a bare head, and which boxes of each class agree."""
    classes: dict[str, ClassAgreement] = {}
    deltas: list[float] = []
    for label in sorted({d.label for d in current} | {d.label for d in shadow}):
        ours = [d for d in current if d.label == label]
        theirs = [d for d in shadow if d.label == label]
        pairs = _pairs(ours, theirs, iou_threshold)
        classes[label] = ClassAgreement(len(ours), len(theirs), len(pairs))
        deltas.extend(theirs[j].score - ours[i].score for i, j in pairs)
    return FrameAgreement(
        current_head=any(d.label == violation_class for d in current),
        shadow_head=any(d.label == violation_class for d in shadow),
        classes=classes,
        score_deltas=tuple(deltas),
    )


@dataclass(frozen=True, slots=True)
class ShadowTally:
    """Agreement of ``shadow_version`` with ``current_version`` over the frames both have seen."""

    shadow_version: str
    current_version: str
    frames: int = 0  # frames both models inferred and that were compared
    head_both: int = 0
    head_current_only: int = 0  # the shadow would have missed a bare head the current model saw
    head_shadow_only: int = 0  # the shadow would have seen a bare head the current model did not
    head_neither: int = 0
    classes: Mapping[str, ClassAgreement] = field(default_factory=dict)
    score_pairs: int = 0
    score_delta_sum: float = 0.0
    score_abs_delta_sum: float = 0.0
    errors: int = 0  # shadow inferences that failed (logged by the worker)
    sampled_out: int = 0  # inferred frames left out by the sampling fraction
    busy_skips: int = 0  # inferred frames skipped because the shadow was still busy

    @property
    def empty(self) -> bool:
        return self == ShadowTally(self.shadow_version, self.current_version)

    def add(self, frame: FrameAgreement) -> ShadowTally:
        classes = dict(self.classes)
        for label, counts in frame.classes.items():
            classes[label] = classes.get(label, ClassAgreement()).plus(counts)
        mine, theirs = frame.current_head, frame.shadow_head
        return replace(
            self,
            frames=self.frames + 1,
            head_both=self.head_both + (mine and theirs),
            head_current_only=self.head_current_only + (mine and not theirs),
            head_shadow_only=self.head_shadow_only + (theirs and not mine),
            head_neither=self.head_neither + (not mine and not theirs),
            classes=classes,
            score_pairs=self.score_pairs + len(frame.score_deltas),
            score_delta_sum=self.score_delta_sum + sum(frame.score_deltas),
            score_abs_delta_sum=self.score_abs_delta_sum + sum(abs(d) for d in frame.score_deltas),
        )

    def count(self, **increments: int) -> ShadowTally:
        """Add to the plain counters (``errors``, ``sampled_out``, ``busy_skips``...)."""
        return replace(self, **{name: getattr(self, name) + amount for name, amount in increments.items()})

    def merge(self, other: ShadowTally) -> ShadowTally:
        if (other.shadow_version, other.current_version) != (self.shadow_version, self.current_version):
            raise ValueError("tallies of different model pairs cannot be merged")
        classes = dict(self.classes)
        for label, counts in other.classes.items():
            classes[label] = classes.get(label, ClassAgreement()).plus(counts)
        summed = {
            f.name: getattr(self, f.name) + getattr(other, f.name)
            for f in fields(self)
            if f.name not in ("shadow_version", "current_version", "classes")
        }
        return replace(self, classes=classes, **summed)

    @property
    def head_agreement(self) -> float | None:
        """Share of compared frames where both models agree on whether a bare head is present."""
        return None if self.frames == 0 else (self.head_both + self.head_neither) / self.frames

    @property
    def mean_score_delta(self) -> float | None:
        return None if self.score_pairs == 0 else self.score_delta_sum / self.score_pairs

    @property
    def mean_abs_score_delta(self) -> float | None:
        return None if self.score_pairs == 0 else self.score_abs_delta_sum / self.score_pairs

    def summary(self) -> dict[str, object]:
        """The figures staff read (and the registry records before a promotion)."""

        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        return {
            "shadow": self.shadow_version,
            "current": self.current_version,
            "frames": self.frames,
            "head": {
                "both": self.head_both,
                "current_only": self.head_current_only,
                "shadow_only": self.head_shadow_only,
                "neither": self.head_neither,
                "agreement": rounded(self.head_agreement),
            },
            "boxes": {
                label: {
                    "current": counts.current,
                    "shadow": counts.shadow,
                    "matched": counts.matched,
                    "agreement": round(counts.agreement, 4),
                }
                for label, counts in sorted(self.classes.items())
            },
            "mean_score_delta": rounded(self.mean_score_delta),
            "mean_abs_score_delta": rounded(self.mean_abs_score_delta),
            "errors": self.errors,
            "sampled_out": self.sampled_out,
            "busy_skips": self.busy_skips,
        }

    def to_json(self) -> str:
        data: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self)}
        data["classes"] = {
            label: [counts.current, counts.shadow, counts.matched] for label, counts in self.classes.items()
        }
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> ShadowTally:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["classes"] = {
            label: ClassAgreement(*counts) for label, counts in (data.get("classes") or {}).items()
        }
        return cls(**values)


async def load_tally(cache: Cache, shadow_version: str, current_version: str) -> ShadowTally:
    raw = await cache.get(shadow_key(shadow_version, current_version))
    return ShadowTally(shadow_version, current_version) if raw is None else ShadowTally.from_json(raw)


async def merge_tally(cache: Cache, lock: Lock, delta: ShadowTally, *, owner: str) -> bool:
    """Add one worker's figures to the shared tally. False: another worker was merging (the caller
    keeps ``delta`` and tries again later)."""
    if delta.empty:
        return True
    key = shadow_key(delta.shadow_version, delta.current_version)
    lease = SHADOW_MERGE_LOCK_PREFIX + key.removeprefix(SHADOW_KEY_PREFIX)
    if not await lock.acquire(lease, owner, MERGE_LEASE_S):
        return False
    try:
        stored = await load_tally(cache, delta.shadow_version, delta.current_version)
        await cache.set(key, stored.merge(delta).to_json(), ttl_s=SHADOW_TTL_S)
    finally:
        await lock.release(lease, owner)
    return True
