"""Score an engine on a Rasa-format YAML test file: per-intent precision/recall/F1, accuracy, entity
F1, a JSON report and a confusion-matrix PNG.

Entity matching: a predicted entity is correct when its type equals a gold entity's and their character
spans overlap (Chinese has no token boundaries both engines agree on); the strict figure (identical
spans) and the agreement of canonical values (nuisance/incident codes) are reported alongside.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nlu.interface import FALLBACK_INTENT, Entity, NluEngine, ParseResult
from nlu.training_data import Annotation, Example

_VALUE_CHECKED = ("nuisance_type", "incident_type", "project_code", "ticket_id", "application_id")


@dataclass(frozen=True, slots=True)
class Scores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(slots=True)
class Report:
    examples: int
    accuracy: float
    intents: dict[str, Scores]
    macro_f1: float
    entity: Scores
    entity_strict: Scores
    entity_types: dict[str, Scores]
    value_agreement: float
    labels: list[str]
    confusion: list[list[int]]
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _scores(true_positive: int, predicted: int, actual: int) -> Scores:
    precision = true_positive / predicted if predicted else 0.0
    recall = true_positive / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(round(precision, 4), round(recall, 4), round(f1, 4), actual)


def _match(gold: Sequence[Annotation], predicted: Sequence[Entity], *, strict: bool) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    used: set[int] = set()
    for p_index, entity in enumerate(predicted):
        for g_index, annotation in enumerate(gold):
            if g_index in used or annotation.entity != entity.entity:
                continue
            same = (annotation.start, annotation.end) == (entity.start, entity.end)
            overlap = entity.start < annotation.end and annotation.start < entity.end
            if same or (overlap and not strict):
                used.add(g_index)
                pairs.append((g_index, p_index))
                break
    return pairs


def _error_row(example: Example, result: ParseResult) -> dict[str, Any]:
    return {
        "text": example.text,
        "intent": example.intent,
        "predicted": result.intent,
        "confidence": round(result.confidence, 4),
        "gold_entities": [(a.entity, a.text) for a in example.entities],
        "predicted_entities": [(e.entity, e.text, e.value) for e in result.entities],
    }


@dataclass(slots=True)
class _Tally:
    """Running counts over the parsed examples: intents in order, entity counts, misparsed examples."""

    gold_intents: list[str] = field(default_factory=list)
    predicted_intents: list[str] = field(default_factory=list)
    entity_counts: Counter[str] = field(default_factory=Counter)
    errors: list[dict[str, Any]] = field(default_factory=list)
    value_checked: int = 0
    value_agreed: int = 0

    def add(self, example: Example, result: ParseResult) -> None:
        self.gold_intents.append(example.intent)
        self.predicted_intents.append(result.intent)
        pairs = _match(example.entities, result.entities, strict=False)
        strict_pairs = _match(example.entities, result.entities, strict=True)
        self._count_entities(example, result, pairs=pairs, strict_pairs=strict_pairs)
        if (
            result.intent != example.intent
            or len(pairs) != len(example.entities)
            or len(pairs) != len(result.entities)
        ):
            self.errors.append(_error_row(example, result))

    def _count_entities(
        self,
        example: Example,
        result: ParseResult,
        *,
        pairs: list[tuple[int, int]],
        strict_pairs: list[tuple[int, int]],
    ) -> None:
        counts = self.entity_counts
        counts["tp"] += len(pairs)
        counts["tp_strict"] += len(strict_pairs)
        counts["predicted"] += len(result.entities)
        counts["gold"] += len(example.entities)
        for annotation in example.entities:
            counts[f"gold:{annotation.entity}"] += 1
        for entity in result.entities:
            counts[f"predicted:{entity.entity}"] += 1
        for g_index, p_index in pairs:
            annotation = example.entities[g_index]
            counts[f"tp:{annotation.entity}"] += 1
            if annotation.entity in _VALUE_CHECKED:
                self.value_checked += 1
                self.value_agreed += int(
                    str(result.entities[p_index].value).upper() == str(annotation.value).upper()
                )


def _confusion(gold_intents: list[str], predicted_intents: list[str]) -> tuple[list[str], list[list[int]]]:
    """The labels (the fallback last) and the gold-by-predicted count matrix in that order."""
    labels = sorted(set(gold_intents) | set(predicted_intents), key=lambda x: (x == FALLBACK_INTENT, x))
    position = {label: index for index, label in enumerate(labels)}
    confusion = [[0] * len(labels) for _ in labels]
    for gold, predicted in zip(gold_intents, predicted_intents, strict=True):
        confusion[position[gold]][position[predicted]] += 1
    return labels, confusion


def _intent_scores(gold_intents: list[str], predicted_intents: list[str]) -> dict[str, Scores]:
    intents = {}
    for label in sorted(set(gold_intents)):
        true_positive = sum(
            1 for g, p in zip(gold_intents, predicted_intents, strict=True) if g == p == label
        )
        intents[label] = _scores(true_positive, predicted_intents.count(label), gold_intents.count(label))
    return intents


def _entity_type_scores(entity_counts: Counter[str]) -> dict[str, Scores]:
    return {
        name: _scores(
            entity_counts[f"tp:{name}"], entity_counts[f"predicted:{name}"], entity_counts[f"gold:{name}"]
        )
        for name in sorted({key.split(":", 1)[1] for key in entity_counts if key.startswith("gold:")})
    }


async def evaluate(engine: NluEngine, examples: Sequence[Example]) -> Report:
    tally = _Tally()
    for example in examples:
        tally.add(example, await engine.parse(example.text))
    gold_intents, predicted_intents = tally.gold_intents, tally.predicted_intents
    labels, confusion = _confusion(gold_intents, predicted_intents)
    intents = _intent_scores(gold_intents, predicted_intents)
    counts = tally.entity_counts
    correct = sum(1 for g, p in zip(gold_intents, predicted_intents, strict=True) if g == p)
    return Report(
        examples=len(examples),
        accuracy=round(correct / len(examples), 4) if examples else 0.0,
        intents=intents,
        macro_f1=round(sum(s.f1 for s in intents.values()) / len(intents), 4) if intents else 0.0,
        entity=_scores(counts["tp"], counts["predicted"], counts["gold"]),
        entity_strict=_scores(counts["tp_strict"], counts["predicted"], counts["gold"]),
        entity_types=_entity_type_scores(counts),
        value_agreement=round(tally.value_agreed / tally.value_checked, 4) if tally.value_checked else 1.0,
        labels=labels,
        confusion=confusion,
        errors=tally.errors,
    )


def format_report(report: Report, *, backend: str) -> str:
    lines = [
        f"backend: {backend}   examples: {report.examples}",
        f"{'intent':<20}{'prec':>8}{'recall':>8}{'f1':>8}{'n':>6}",
    ]
    for name, scores in report.intents.items():
        lines.append(
            f"{name:<20}{scores.precision:>8.3f}{scores.recall:>8.3f}{scores.f1:>8.3f}{scores.support:>6}"
        )
    lines.append(f"intent accuracy: {report.accuracy:.4f}   macro F1: {report.macro_f1:.4f}")
    for name, scores in report.entity_types.items():
        lines.append(
            f"  entity {name:<16}{scores.precision:>8.3f}{scores.recall:>8.3f}"
            f"{scores.f1:>8.3f}{scores.support:>6}"
        )
    lines.append(
        f"entity F1 (overlap): {report.entity.f1:.4f}   strict spans: {report.entity_strict.f1:.4f}   "
        f"value agreement: {report.value_agreement:.4f}"
    )
    return "\n".join(lines)


def write_outputs(report: Report, out_dir: Path, *, backend: str) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"nlu-eval-{backend}.json"
    json_path.write_text(
        json.dumps({"backend": backend, **report.to_json()}, ensure_ascii=False, indent=2), "utf-8"
    )
    png_path = out_dir / f"nlu-confusion-{backend}.png"
    _plot_confusion(report, png_path, title=f"{backend}: accuracy {report.accuracy:.3f}")
    return json_path, png_path


def _plot_confusion(report: Report, path: Path, *, title: str) -> None:
    import matplotlib  # noqa: PLC0415 - heavy, and only the CLI draws

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    size = len(report.labels)
    figure, axes = plt.subplots(figsize=(1.0 + 0.6 * size, 1.0 + 0.55 * size))
    image = axes.imshow(report.confusion, cmap="Blues")
    axes.set_xticks(range(size), report.labels, rotation=60, ha="right", fontsize=8)
    axes.set_yticks(range(size), report.labels, fontsize=8)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    axes.set_title(title)
    peak = max((max(row) for row in report.confusion), default=0)
    for row in range(size):
        for column in range(size):
            value = report.confusion[row][column]
            if value:
                colour = "white" if value > peak / 2 else "black"
                axes.text(column, row, str(value), ha="center", va="center", fontsize=7, color=colour)
    figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
