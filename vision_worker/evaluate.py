"""Model validation on a YOLO-format folder: per-class precision, recall and AP@0.5, and false alarms
per camera-day at the alarm rule's debounce (``vision_worker.false_alarms``).

Precision and recall are measured at the operating threshold (what the worker will really alarm
on); AP integrates the whole precision-recall curve, so it is computed from detections down to a
very low score (all-point interpolation, as in VOC 2010+).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from domain.vision.rules import Box, Detection, ViolationConfig, iou
from vision_worker.false_alarms import FalseAlarmReport, SequenceFrame, bare_head_boxes, replay, sequence_key

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
AP_SCORE_FLOOR = 0.001


@dataclass(frozen=True, slots=True)
class Labelled:
    label: str
    box: Box


@dataclass(frozen=True, slots=True)
class ClassReport:
    label: str
    labelled: int
    detected: int
    precision: float
    recall: float
    ap50: float


def read_labels(path: Path, *, width: int, height: int, class_names: Sequence[str]) -> list[Labelled]:
    """YOLO lines ``class cx cy w h`` (normalised) → boxes in pixels; unknown class ids are skipped."""
    labelled: list[Labelled] = []
    if not path.exists():
        return labelled
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) != 5:
            continue
        class_id = int(parts[0])
        if not 0 <= class_id < len(class_names):
            continue
        cx, cy, w, h = (float(value) for value in parts[1:])
        box = ((cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height)
        labelled.append(Labelled(class_names[class_id], box))
    return labelled


def match(
    detections: Sequence[Detection], truths: Sequence[Labelled], *, iou_threshold: float = 0.5
) -> list[bool]:
    """Per detection (best score first), whether it is a true positive of a not-yet-matched truth."""
    used: set[int] = set()
    outcome = [False] * len(detections)
    for index in sorted(range(len(detections)), key=lambda i: -detections[i].score):
        detection = detections[index]
        best, best_iou = -1, iou_threshold
        for truth_index, truth in enumerate(truths):
            if truth_index in used or truth.label != detection.label:
                continue
            overlap = iou(detection.box, truth.box)
            if overlap >= best_iou:
                best, best_iou = truth_index, overlap
        if best >= 0:
            used.add(best)
            outcome[index] = True
    return outcome


def average_precision(scores: Sequence[float], hits: Sequence[bool], total: int) -> float:
    if total == 0:
        return 0.0
    order = np.argsort(-np.asarray(scores, dtype=np.float64))
    true_pos = np.cumsum(np.asarray(hits, dtype=np.float64)[order])
    false_pos = np.cumsum(1 - np.asarray(hits, dtype=np.float64)[order])
    recall = np.concatenate([[0.0], true_pos / total, [1.0]])
    precision = np.concatenate([[1.0], true_pos / np.maximum(true_pos + false_pos, 1e-9), [0.0]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.where(recall[1:] != recall[:-1])[0]
    return float(np.sum((recall[steps + 1] - recall[steps]) * precision[steps + 1]))


DetectFn = Callable[[np.ndarray, float], list[Detection]]


class EmptyEvaluation(ValueError):
    """No labelled image in the folder: an evaluation of nothing must fail, not print AP 0."""


def _label_path(image: Path, root: Path) -> Path:
    """Standard layout: ``.../images/<rest>.jpg`` has ``.../labels/<rest>.txt``; flat: beside it."""
    parts = image.relative_to(root).parts
    if "images" in parts[:-1]:
        index = len(parts) - 2 - parts[:-1][::-1].index("images")  # the innermost images/ folder
        swapped = root.joinpath(*parts[:index], "labels", *parts[index + 1 :]).with_suffix(".txt")
        if swapped.exists():
            return swapped
    return image.with_suffix(".txt")


def find_samples(folder: Path) -> list[tuple[Path, Path]]:
    """(image, label file) pairs of a YOLO folder: flat (``a.jpg`` + ``a.txt``) or standard
    (``images/[split/]a.jpg`` + ``labels/[split/]a.txt``). Raises ``EmptyEvaluation`` if none."""
    if not folder.is_dir():
        raise EmptyEvaluation(f"{folder} is not a folder")
    images = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    samples = [(image, _label_path(image, folder)) for image in images]
    if not samples:
        raise EmptyEvaluation(f"no .jpg/.jpeg/.png images under {folder} (flat or images/ + labels/)")
    if not any(label.exists() for _image, label in samples):
        raise EmptyEvaluation(f"no label file for any of the {len(samples)} images under {folder}")
    return samples


@dataclass(frozen=True, slots=True)
class Evaluation:
    threshold: float
    classes: list[ClassReport]
    false_alarms: FalseAlarmReport

    @property
    def map50(self) -> float:
        return sum(r.ap50 for r in self.classes) / len(self.classes) if self.classes else 0.0

    def as_json(self) -> dict[str, object]:
        rows = [
            {
                "class": r.label,
                "labelled": r.labelled,
                "detected": r.detected,
                "precision": round(r.precision, 4),
                "recall": round(r.recall, 4),
                "ap50": round(r.ap50, 4),
            }
            for r in self.classes
        ]
        return {
            "threshold": self.threshold,
            "classes": rows,
            "map50": round(self.map50, 4),
            "false_alarms": self.false_alarms.as_json(),
        }


def evaluate(
    folder: Path,
    detect: DetectFn,
    *,
    class_names: Sequence[str],
    labels: Sequence[str],
    threshold: float,
    violation: ViolationConfig | None = None,
) -> Evaluation:
    """``detect(image, score_floor)`` runs the model; ``labels`` are the classes to report. Frames
    named by camera and time are also replayed through the alarm rule (``false_alarms``)."""
    per_class: dict[str, tuple[list[float], list[bool]]] = {label: ([], []) for label in labels}
    totals = dict.fromkeys(labels, 0)
    sequence: list[SequenceFrame] = []
    loose = 0
    for image_path, label_path in find_samples(folder):
        image = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"cannot read {image_path}")
        height, width = image.shape[:2]
        truths = read_labels(label_path, width=width, height=height, class_names=class_names)
        found = detect(image, AP_SCORE_FLOOR)
        detections = [d for d in found if d.label in per_class]
        for truth in truths:
            if truth.label in totals:
                totals[truth.label] += 1
        for detection, hit in zip(detections, match(detections, truths), strict=True):
            scores, hits = per_class[detection.label]
            scores.append(detection.score)
            hits.append(hit)
        key = sequence_key(image_path.stem)
        if key is None:
            loose += 1
            continue
        operating = tuple(d for d in found if d.score >= threshold)  # what the worker's rule sees
        bare = bare_head_boxes((truth.label, truth.box) for truth in truths)
        sequence.append(SequenceFrame(key[0], key[1], image_path.name, operating, bare, width, height))
    reports = []
    for label in labels:
        scores, hits = per_class[label]
        at_threshold = [hit for score, hit in zip(scores, hits, strict=True) if score >= threshold]
        true_pos = sum(at_threshold)
        reports.append(
            ClassReport(
                label=label,
                labelled=totals[label],
                detected=len(at_threshold),
                precision=true_pos / len(at_threshold) if at_threshold else 0.0,
                recall=true_pos / totals[label] if totals[label] else 0.0,
                ap50=average_precision(scores, hits, totals[label]),
            )
        )
    return Evaluation(threshold, reports, replay(sequence, loose_frames=loose, violation=violation))


def evaluate_folder(
    folder: Path, detect: DetectFn, *, class_names: Sequence[str], labels: Sequence[str], threshold: float
) -> list[ClassReport]:
    """Per-class figures only (see ``evaluate`` for the whole report)."""
    return evaluate(folder, detect, class_names=class_names, labels=labels, threshold=threshold).classes


def false_alarm_line(report: FalseAlarmReport) -> str:
    rate = report.per_camera_day
    if rate is None:
        return (
            f"false alarms per camera-day: n/a (no frame named CAMERA_YYYYMMDD_HHMMSS among "
            f"{report.loose_frames}; the rule needs frame sequences)"
        )
    return (
        f"false alarms per camera-day: {rate:.2f} ({report.false_alarms} of {report.alarms} alarms, "
        f"{report.camera_days} camera-days, {report.sequence_frames} frames in sequences, "
        f"{report.loose_frames} not)"
    )
