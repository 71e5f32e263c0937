"""Command line: ``detect`` and ``evaluate`` for validating a model, ``device-key`` for provisioning.

python -m vision_worker detect PATH... [--model M] [--json]
python -m vision_worker evaluate DIR [--model M] [--threshold T]
python -m vision_worker device-key CAMERA_CODE
python -m vision_worker dynamic-batch IN.onnx OUT.onnx
python -m vision_worker models register|list|shadow|promote|agreement ... (see vision_worker/models_cli.py)
python -m vision_worker dataset export --since YYYY-MM-DD --out DIR [--val-fraction 0.2]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from config.settings import load_settings
from domain.vision.rules import Detection, camera_device_key
from vision_worker import dataset
from vision_worker.config import detector_config
from vision_worker.detector import OnnxDetector
from vision_worker.evaluate import EmptyEvaluation, evaluate, false_alarm_line, find_samples
from vision_worker.models_cli import add_models_commands, run_models_command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vision_worker")
    commands = parser.add_subparsers(dest="command", required=True)
    detect = commands.add_parser("detect", help="print each image's detections")
    detect.add_argument("paths", nargs="+", type=Path)
    detect.add_argument("--model", type=Path, default=None)
    detect.add_argument("--json", action="store_true", help="one JSON object per image")
    evaluate = commands.add_parser("evaluate", help="precision, recall and mAP@0.5 on a YOLO-format folder")
    evaluate.add_argument("folder", type=Path)
    evaluate.add_argument("--model", type=Path, default=None)
    evaluate.add_argument("--threshold", type=float, default=None, help="operating score threshold")
    evaluate.add_argument("--json", action="store_true")
    dynamic = commands.add_parser(
        "dynamic-batch", help="copy a fixed-batch YOLO ONNX model with a dynamic batch axis (needs onnx)"
    )
    dynamic.add_argument("source", type=Path)
    dynamic.add_argument("target", type=Path)
    key = commands.add_parser("device-key", help="print the upload key of a camera (from SECRET_KEY)")
    key.add_argument("camera_code")
    dataset.add_parser(commands)
    add_models_commands(commands)
    return parser


def _detection_json(detection: Detection) -> dict[str, object]:
    return {"class": detection.label, "score": detection.score, "box": list(detection.box)}


def cmd_detect(paths: Sequence[Path], *, model: Path | None, as_json: bool) -> int:
    cv2.setNumThreads(1)
    detector = OnnxDetector(detector_config(load_settings(), model_path=model))
    failures = 0
    for path in paths:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            print(f"{path}: cannot read image", file=sys.stderr)
            failures += 1
            continue
        detections = detector.detect(np.asarray(image, dtype=np.uint8))
        if as_json:
            print(json.dumps({"path": str(path), "detections": [_detection_json(d) for d in detections]}))
            continue
        print(f"{path}: {len(detections)} detection(s)")
        for detection in detections:
            x1, y1, x2, y2 = detection.box
            print(f"  {detection.label:<8} {detection.score:.3f}  [{x1:.0f}, {y1:.0f}, {x2:.0f}, {y2:.0f}]")
    return 1 if failures else 0


def cmd_evaluate(folder: Path, *, model: Path | None, threshold: float | None, as_json: bool) -> int:
    try:
        find_samples(folder)  # before loading the model: an empty evaluation fails at once
    except EmptyEvaluation as error:
        print(f"evaluate: {error}", file=sys.stderr)
        return 2
    cv2.setNumThreads(1)
    config = detector_config(load_settings(), model_path=model)
    detector = OnnxDetector(config)
    operating = config.score_threshold if threshold is None else threshold

    def detect(image: np.ndarray, floor: float) -> list[Detection]:
        return detector.detect(image, threshold=floor)

    labels = [name for name in config.class_names if name not in config.ignore_classes]
    result = evaluate(folder, detect, class_names=config.class_names, labels=labels, threshold=operating)
    if as_json:
        print(json.dumps(result.as_json()))
        return 0
    print(f"threshold {operating:.2f}")
    print(f"{'class':<10}{'labels':>8}{'dets':>8}{'precision':>11}{'recall':>9}{'AP@0.5':>9}")
    for r in result.classes:
        print(
            f"{r.label:<10}{r.labelled:>8}{r.detected:>8}{r.precision:>11.3f}{r.recall:>9.3f}{r.ap50:>9.3f}"
        )
    print(f"{'mAP@0.5':<10}{result.map50:>45.3f}")
    print(false_alarm_line(result.false_alarms))
    return 0


def cmd_dynamic_batch(source: Path, target: Path) -> int:
    try:
        from vision_worker.dynamic_batch import make_batch_dynamic  # noqa: PLC0415 - onnx: a dev dependency
    except ImportError:
        print("dynamic-batch needs the onnx package: pip install onnx", file=sys.stderr)
        return 2
    try:
        rewritten = make_batch_dynamic(source, target)
    except (OSError, ValueError) as error:
        print(f"dynamic-batch: {error}", file=sys.stderr)
        return 1
    print(f"{target}: batch axis dynamic ({rewritten} reshape target(s) freed)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "dynamic-batch":
        return cmd_dynamic_batch(args.source, args.target)
    if args.command == "detect":
        return cmd_detect(args.paths, model=args.model, as_json=args.json)
    if args.command == "dataset":
        settings = load_settings()
        return dataset.cmd_dataset(args, settings, class_names=detector_config(settings).class_names)
    if args.command == "models":
        return run_models_command(args, load_settings())
    if args.command == "evaluate":
        return cmd_evaluate(args.folder, model=args.model, threshold=args.threshold, as_json=args.json)
    secret = load_settings().secret_key.get_secret_value().encode()
    print(camera_device_key(secret, args.camera_code))
    return 0


if __name__ == "__main__":
    sys.exit(main())
