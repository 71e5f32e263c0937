"""The detector port and its onnxruntime implementation (YOLOv5 and YOLOv8/11/12 ONNX exports).

Preprocessing resizes first and then converts into one preallocated float buffer: converting the
small image is cheaper than converting the full frame, and ``cv2.dnn.blobFromImage`` measured 2–3×
slower here. The session keeps onnxruntime's default graph optimisation (1.5–2× faster than basic)
and turns intra-op spinning off so an idle worker does not burn the cores the API needs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from domain.vision.rules import Detection

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]  # BGR, as OpenCV decodes
Floats = npt.NDArray[np.float32]
PAD_VALUE = 114 / 255


class OutputLayout(StrEnum):
    AUTO = "auto"
    YOLOV8 = "yolov8"  # [1, 4 + nc, N]: cx, cy, w, h, class scores (also YOLO11/12)
    YOLOV5 = "yolov5"  # [1, N, 5 + nc]: cx, cy, w, h, objectness, class scores


class Detector(Protocol):
    """Finds objects in one BGR image; boxes come back in that image's pixels. Blocking: callers run
    it in an executor, never on the event loop."""

    def detect(self, image: Image) -> list[Detection]: ...


class BatchDetector(Detector, Protocol):
    """A detector that can also take several images in one call (one ``session.run`` when the model
    has a dynamic batch axis)."""

    max_batch: int

    def detect_batch(self, images: list[Image]) -> list[list[Detection]]: ...


PROVIDER_PREFERENCE = (
    "TensorrtExecutionProvider",
    "CUDAExecutionProvider",
    "OpenVINOExecutionProvider",
    "CPUExecutionProvider",
)


def choose_providers(requested: tuple[str, ...], available: list[str]) -> list[str]:
    """The providers to ask onnxruntime for, best first, always ending with CPU (its fallback).
    ``requested`` empty: the best the machine has; otherwise those requested that it has."""
    wanted = requested or PROVIDER_PREFERENCE
    chosen = [name for name in wanted if name in available and name != "CPUExecutionProvider"]
    return [*chosen, "CPUExecutionProvider"]


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    model_path: Path
    class_names: tuple[str, ...] = ("head", "helmet", "person")
    ignore_classes: frozenset[str] = frozenset({"person"})
    score_threshold: float = 0.35
    nms_iou: float = 0.5
    layout: OutputLayout = OutputLayout.AUTO
    intra_op_threads: int = 1
    max_detections: int = 300
    providers: tuple[str, ...] = ()  # empty: the best available (TensorRT, CUDA, OpenVINO), else CPU
    max_batch: int = 1  # frames per session.run when the model's batch axis is dynamic


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How an image maps into the square input: ``scale`` then offset by ``(left, top)``."""

    scale: float
    left: int
    top: int
    width: int
    height: int


def letterbox_geometry(width: int, height: int, size: int) -> Letterbox:
    scale = min(size / width, size / height)
    new_w, new_h = round(width * scale), round(height * scale)
    # Same rounding as the exporter's letterbox, so boxes land where training put them.
    left = round((size - new_w) / 2 - 0.1)
    top = round((size - new_h) / 2 - 0.1)
    return Letterbox(scale, left, top, new_w, new_h)


@dataclass
class Preprocessor:
    """Reuses one ``[1, 3, size, size]`` buffer (its own, or a slot of a batch buffer given as
    ``into``); refills the padding only when the frame size changes."""

    size: int
    into: Floats | None = None
    buffer: Floats = field(init=False)
    _geometry: Letterbox | None = field(init=False, default=None)
    _source_shape: tuple[int, int] = field(init=False, default=(0, 0))

    def __post_init__(self) -> None:
        if self.into is None:
            self.buffer = np.full((1, 3, self.size, self.size), PAD_VALUE, dtype=np.float32)
        else:
            self.buffer = self.into
            self.buffer.fill(PAD_VALUE)

    def __call__(self, image: Image) -> Letterbox:
        height, width = image.shape[:2]
        if self._geometry is None or self._source_shape != (height, width):
            self._geometry = letterbox_geometry(width, height, self.size)
            self._source_shape = (height, width)
            self.buffer.fill(PAD_VALUE)
        box = self._geometry
        source: npt.NDArray[Any] = image
        if (box.width, box.height) != (width, height):
            source = cv2.resize(image, (box.width, box.height), interpolation=cv2.INTER_LINEAR)
        target = self.buffer[0, :, box.top : box.top + box.height, box.left : box.left + box.width]
        # HWC BGR uint8 → CHW RGB float 0..1, written straight into the buffer.
        np.multiply(source.transpose(2, 0, 1)[::-1], np.float32(1 / 255), out=target, casting="unsafe")
        return box


def resolve_layout(shape: tuple[int, ...], class_count: int, layout: OutputLayout) -> OutputLayout:
    if layout is not OutputLayout.AUTO:
        return layout
    if len(shape) != 3:
        raise ValueError(f"unexpected output shape {shape}")
    if shape[1] == 4 + class_count:
        return OutputLayout.YOLOV8
    if shape[2] == 5 + class_count:
        return OutputLayout.YOLOV5
    raise ValueError(f"output shape {shape} fits neither YOLOv8 nor YOLOv5 with {class_count} classes")


def decode(
    output: Floats, *, layout: OutputLayout, active: npt.NDArray[np.intp], threshold: float
) -> tuple[Floats, Floats, npt.NDArray[np.intp]]:
    """Candidates above ``threshold``: boxes (x1, y1, x2, y2 in input pixels), scores, class ids.

    ``active`` lists the class columns to consider, so an ignored class never wins the argmax.
    """
    if layout is OutputLayout.YOLOV8:
        rows = output[0].T  # [N, 4 + nc]
        class_scores = rows[:, 4:][:, active]
    else:
        rows = output[0]  # [N, 5 + nc]
        class_scores = rows[:, 5:][:, active] * rows[:, 4:5]
    best = class_scores.argmax(axis=1)
    scores = class_scores[np.arange(len(best)), best]
    keep = scores >= threshold
    centre = rows[keep, :4]
    boxes = np.empty_like(centre)
    boxes[:, 0] = centre[:, 0] - centre[:, 2] / 2
    boxes[:, 1] = centre[:, 1] - centre[:, 3] / 2
    boxes[:, 2] = centre[:, 0] + centre[:, 2] / 2
    boxes[:, 3] = centre[:, 1] + centre[:, 3] / 2
    return boxes, scores[keep].astype(np.float32), active[best[keep]]


def nms(boxes: Floats, scores: Floats, *, iou_threshold: float, limit: int) -> list[int]:
    """Greedy non-maximum suppression over all classes at once (class-agnostic)."""
    order = scores.argsort()[::-1]
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    kept: list[int] = []
    while order.size and len(kept) < limit:
        index = int(order[0])
        kept.append(index)
        rest = order[1:]
        x1 = np.maximum(boxes[index, 0], boxes[rest, 0])
        y1 = np.maximum(boxes[index, 1], boxes[rest, 1])
        x2 = np.minimum(boxes[index, 2], boxes[rest, 2])
        y2 = np.minimum(boxes[index, 3], boxes[rest, 3])
        inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
        overlap = inter / (areas[index] + areas[rest] - inter + 1e-9)
        order = rest[overlap <= iou_threshold]
    return kept


def session_options(intra_op_threads: int) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


class OnnxDetector:
    """One session and one input buffer: not for concurrent calls (give each thread its own)."""

    def __init__(self, config: DetectorConfig, *, warm_up: bool = True) -> None:
        self.config = config
        self.session = ort.InferenceSession(
            str(config.model_path),
            sess_options=session_options(config.intra_op_threads),
            providers=choose_providers(config.providers, ort.get_available_providers()),
        )
        log.info(
            "vision model %s runs on %s", config.model_path.name, ", ".join(self.session.get_providers())
        )
        model_input = self.session.get_inputs()[0]
        self.input_name: str = model_input.name
        self.size = int(model_input.shape[-1]) if isinstance(model_input.shape[-1], int) else 640
        # A fixed leading dimension (the shared model's 1) means frames go one by one.
        dynamic = not isinstance(model_input.shape[0], int)
        self.max_batch = max(1, config.max_batch) if dynamic else 1
        self.output_name: str = self.session.get_outputs()[0].name
        self._preprocess = Preprocessor(self.size)
        self._batch = np.full((self.max_batch, 3, self.size, self.size), PAD_VALUE, dtype=np.float32)
        self._slots = [Preprocessor(self.size, into=self._batch[i : i + 1]) for i in range(self.max_batch)]
        self._active = np.array(
            [i for i, name in enumerate(config.class_names) if name not in config.ignore_classes],
            dtype=np.intp,
        )
        self._layout: OutputLayout | None = None
        if warm_up:
            # The first run allocates and plans; pay for it before the first real frame.
            self.run_raw(self._preprocess.buffer)

    @property
    def input_buffer(self) -> Floats:
        """The preallocated model input, holding the last prepared frame."""
        return self._preprocess.buffer

    def run_raw(self, batch: Floats) -> Floats:
        outputs: list[Any] = self.session.run([self.output_name], {self.input_name: batch})
        return np.asarray(outputs[0], dtype=np.float32)

    def detect(self, image: Image, *, threshold: float | None = None) -> list[Detection]:
        geometry = self._preprocess(image)
        output = self.run_raw(self._preprocess.buffer)
        return self._detections(output, geometry, image, threshold=threshold)

    def detect_batch(self, images: list[Image]) -> list[list[Detection]]:
        """Up to ``max_batch`` images in one run (a batch-1 model: one run each, same results)."""
        if self.max_batch == 1:
            return [self.detect(image) for image in images]
        results: list[list[Detection]] = []
        for start in range(0, len(images), self.max_batch):
            chunk = images[start : start + self.max_batch]
            geometries = [slot(image) for slot, image in zip(self._slots, chunk, strict=False)]
            output = self.run_raw(self._batch[: len(chunk)])
            for index, (image, geometry) in enumerate(zip(chunk, geometries, strict=True)):
                results.append(self._detections(output[index : index + 1], geometry, image, threshold=None))
        return results

    def _detections(
        self, output: Floats, geometry: Letterbox, image: Image, *, threshold: float | None
    ) -> list[Detection]:
        if self._layout is None:
            self._layout = resolve_layout(output.shape, len(self.config.class_names), self.config.layout)
        boxes, scores, classes = decode(
            output,
            layout=self._layout,
            active=self._active,
            threshold=self.config.score_threshold if threshold is None else threshold,
        )
        kept = nms(boxes, scores, iou_threshold=self.config.nms_iou, limit=self.config.max_detections)
        height, width = image.shape[:2]
        return [
            Detection(
                label=self.config.class_names[int(classes[index])],
                score=round(float(scores[index]), 4),
                box=(
                    _clip((boxes[index, 0] - geometry.left) / geometry.scale, width),
                    _clip((boxes[index, 1] - geometry.top) / geometry.scale, height),
                    _clip((boxes[index, 2] - geometry.left) / geometry.scale, width),
                    _clip((boxes[index, 3] - geometry.top) / geometry.scale, height),
                ),
            )
            for index in kept
        ]


def _clip(value: float, limit: int) -> float:
    return round(min(max(float(value), 0.0), float(limit)), 1)
