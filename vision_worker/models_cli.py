"""``python -m vision_worker models ...``: the model registry from a terminal.

models register PATH --version V [--evaluate DIR] [--threshold T]
models list [--json]
models shadow V | models shadow --clear
models promote V [--force]
models agreement [V] [--json]

The workers read the registry when they start: after ``shadow`` or ``promote``, restart them one by
one (leases move the cameras meanwhile). Shadow figures live in Redis (``REDIS_URL``); ``agreement``
and ``promote`` copy them into the version's manifest, which is what a promotion is checked against.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from config.settings import Settings
from domain.ports import Cache
from domain.vision.rules import Detection
from domain.vision.shadow import ShadowTally, load_tally
from vision_worker.config import detector_config, registry_dir
from vision_worker.detector import OnnxDetector
from vision_worker.evaluate import EmptyEvaluation, evaluate, find_samples
from vision_worker.registry import ModelEntry, ModelRegistry, RegistryError
from vision_worker.service import choose_models


def add_models_commands(commands: Any) -> None:  # argparse's subparsers action has no public type
    models = commands.add_parser("models", help="the model registry: register, shadow, promote")
    verbs = models.add_subparsers(dest="models_command", required=True)
    register = verbs.add_parser("register", help="copy a model into the registry as a new version")
    register.add_argument("path", type=Path)
    register.add_argument("--version", required=True)
    register.add_argument("--evaluate", type=Path, default=None, help="YOLO folder: store its metrics")
    register.add_argument("--threshold", type=float, default=None, help="operating threshold for --evaluate")
    listing = verbs.add_parser("list", help="every version with its status and metrics")
    listing.add_argument("--json", action="store_true")
    shadow = verbs.add_parser("shadow", help="run a version beside the current one (never alarming)")
    shadow.add_argument("version", nargs="?")
    shadow.add_argument("--clear", action="store_true", help="run no shadow")
    promote = verbs.add_parser("promote", help="make a version current (the previous one is retired)")
    promote.add_argument("version")
    promote.add_argument("--force", action="store_true", help="without a recorded shadow agreement")
    agreement = verbs.add_parser("agreement", help="the shadow's agreement with the current model")
    agreement.add_argument("version", nargs="?", help="default: the registry's shadow")
    agreement.add_argument("--json", action="store_true")


def run_models_command(args: argparse.Namespace, settings: Settings) -> int:
    registry = ModelRegistry(registry_dir(settings))
    try:
        if args.models_command == "register":
            return cmd_register(
                registry,
                settings,
                args.path,
                version=args.version,
                folder=args.evaluate,
                threshold=args.threshold,
            )
        if args.models_command == "list":
            return cmd_list(registry, as_json=args.json)
        if args.models_command == "shadow":
            return cmd_shadow(registry, args.version, clear=args.clear)
        if args.models_command == "promote":
            return cmd_promote(registry, settings, args.version, force=args.force)
        return cmd_agreement(registry, settings, args.version, as_json=args.json)
    except RegistryError as error:
        print(f"models: {error}", file=sys.stderr)
        return 1


def evaluation_metrics(
    folder: Path, *, model: Path, settings: Settings, threshold: float | None
) -> dict[str, Any]:
    """The ``evaluate --json`` report of ``model`` on ``folder``, as stored in the manifest."""
    find_samples(folder)  # raises EmptyEvaluation before the model loads
    cv2.setNumThreads(1)
    config = detector_config(settings, model_path=model)
    detector = OnnxDetector(config)
    operating = config.score_threshold if threshold is None else threshold

    def detect(image: np.ndarray, floor: float) -> list[Detection]:
        return detector.detect(image, threshold=floor)

    labels = [name for name in config.class_names if name not in config.ignore_classes]
    result = evaluate(folder, detect, class_names=config.class_names, labels=labels, threshold=operating)
    return {"folder": str(folder.resolve()), **result.as_json()}


def cmd_register(
    registry: ModelRegistry,
    settings: Settings,
    path: Path,
    *,
    version: str,
    folder: Path | None,
    threshold: float | None,
) -> int:
    metrics: dict[str, Any] = {}
    if folder is not None:
        try:
            metrics["evaluate"] = evaluation_metrics(
                folder, model=path, settings=settings, threshold=threshold
            )
        except EmptyEvaluation as error:
            print(f"models register: {error}", file=sys.stderr)
            return 2
    entry = registry.register(path, version=version, metrics=metrics)
    mean_ap = metrics.get("evaluate", {}).get("map50")
    report = "" if mean_ap is None else f", mAP@0.5 {mean_ap:.3f}"
    print(f"registered {entry.version} ({entry.sha256[:12]}, {entry.status}{report})")
    return 0


def _head_agreement(entry: ModelEntry) -> str:
    head = (entry.agreement or {}).get("head") or {}
    value = head.get("agreement")
    return "-" if value is None else f"{value:.3f}"


def cmd_list(registry: ModelRegistry, *, as_json: bool) -> int:
    entries = registry.versions()
    if as_json:
        print(json.dumps([json.loads(entry.to_json()) for entry in entries], ensure_ascii=False))
        return 0
    print(f"{'version':<20}{'status':<11}{'sha256':<14}{'mAP@0.5':>8}{'head agr.':>11}  created")
    for entry in entries:
        mean_ap = (entry.metrics.get("evaluate") or {}).get("map50")
        shown = "-" if mean_ap is None else f"{mean_ap:.3f}"
        print(
            f"{entry.version:<20}{entry.status:<11}{entry.sha256[:12]:<14}{shown:>8}"
            f"{_head_agreement(entry):>11}  {entry.created_at[:19]}"
        )
    return 0


def cmd_shadow(registry: ModelRegistry, version: str | None, *, clear: bool) -> int:
    if clear == (version is not None):
        print("models shadow: give a version or --clear", file=sys.stderr)
        return 2
    if version is None:
        previous = registry.clear_shadow()
        print("no shadow" if previous is None else f"{previous.version} is no longer the shadow")
    else:
        print(f"{registry.set_shadow(version).version} is the shadow")
    print("restart the vision workers (one by one) for it to take effect")
    return 0


async def _read_tally(settings: Settings, shadow: str, current: str) -> ShadowTally | None:
    """The figures every worker merged into Redis; None without Redis (embedded mode keeps them
    inside the running process)."""
    if not settings.redis_url:
        return None
    cache, close = _open_cache(settings)
    try:
        return await load_tally(cache, shadow, current)
    finally:
        await close()


def _open_cache(settings: Settings) -> tuple[Cache, Callable[[], Awaitable[None]]]:
    from adapters import redis_ports  # noqa: PLC0415 - only the commands that read figures need it

    client = redis_ports.connect(settings.redis_url or "")
    return redis_ports.RedisCache(client, settings.redis_key_prefix), client.aclose


def _record_live_agreement(registry: ModelRegistry, settings: Settings, version: str) -> ShadowTally | None:
    current = choose_models(settings).current_version
    tally = asyncio.run(_read_tally(settings, version, current))
    if tally is not None and tally.frames > 0:
        registry.record_agreement(version, tally.summary())
    return tally


def cmd_promote(registry: ModelRegistry, settings: Settings, version: str, *, force: bool) -> int:
    registry.get(version)  # an unknown version fails before Redis is asked
    if registry.current() is not None:
        _record_live_agreement(registry, settings, version)
    entry = registry.promote(version, force=force)
    print(f"{entry.version} is current; restart the vision workers (one by one) to run it")
    return 0


def cmd_agreement(registry: ModelRegistry, settings: Settings, version: str | None, *, as_json: bool) -> int:
    if version is None:
        shadow = registry.shadow()
        if shadow is None:
            print("models agreement: no shadow version (give one)", file=sys.stderr)
            return 2
        version = shadow.version
    registry.get(version)
    tally = _record_live_agreement(registry, settings, version)
    if tally is None:
        print("models agreement: shadow figures live in Redis and REDIS_URL is not set", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(tally.summary(), ensure_ascii=False))
        return 0
    print(_describe(tally))
    return 0


def _describe(tally: ShadowTally) -> str:
    lines = [
        f"shadow {tally.shadow_version} against {tally.current_version}: {tally.frames} frame(s) compared"
    ]
    if tally.frames:
        agreement = tally.head_agreement or 0.0
        lines.append(
            f"bare head on the frame: both {tally.head_both}, current only {tally.head_current_only}, "
            f"shadow only {tally.head_shadow_only}, neither {tally.head_neither} (agreement {agreement:.3f})"
        )
        for label, counts in sorted(tally.classes.items()):
            lines.append(
                f"  {label:<8} boxes current {counts.current}, shadow {counts.shadow}, "
                f"matched at IoU>=0.5 {counts.matched} (agreement {counts.agreement:.3f})"
            )
        if tally.mean_score_delta is not None and tally.mean_abs_score_delta is not None:
            lines.append(
                f"mean score delta (shadow - current) {tally.mean_score_delta:+.4f}, "
                f"mean |delta| {tally.mean_abs_score_delta:.4f}"
            )
    lines.append(
        f"shadow errors {tally.errors}, left out by sampling {tally.sampled_out}, "
        f"skipped while busy {tally.busy_skips}"
    )
    return "\n".join(lines)
