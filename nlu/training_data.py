"""Read Rasa 3.x NLU YAML (inline entity annotations, synonyms, regexes, lookup tables).

Both the embedded engine (training) and the evaluation CLI (gold labels) read files through here, so
the two agree on what an annotation means. Only the subset of the format this project uses is
supported: ``[text](entity)``, ``[text](entity:value)`` and ``[text]{"entity": ..., "value": ...}``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<short>[^)]+)\)|(?P<json>\{[^}]+\}))")


class TrainingDataError(ValueError):
    """The YAML is not Rasa NLU data this loader understands."""


@dataclass(frozen=True, slots=True)
class Annotation:
    entity: str
    value: Any
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    intent: str
    entities: tuple[Annotation, ...] = ()


@dataclass(frozen=True, slots=True)
class TrainingData:
    examples: tuple[Example, ...]
    synonyms: dict[str, str] = field(default_factory=dict)  # surface form -> canonical value
    regexes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lookups: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def intents(self) -> list[str]:
        return sorted({example.intent for example in self.examples})


def parse_annotated(line: str, synonyms: dict[str, str] | None = None) -> tuple[str, tuple[Annotation, ...]]:
    """Strip inline annotations from one example; offsets refer to the plain text."""
    synonyms = synonyms or {}
    plain: list[str] = []
    entities: list[Annotation] = []
    cursor = 0
    length = 0
    for match in _ANNOTATION.finditer(line):
        before = line[cursor : match.start()]
        plain.append(before)
        length += len(before)
        text = match.group("text")
        entity, value = _entity_and_value(match)
        if value is None:
            value = synonyms.get(text, text)
        entities.append(
            Annotation(entity=entity, value=value, start=length, end=length + len(text), text=text)
        )
        plain.append(text)
        length += len(text)
        cursor = match.end()
    plain.append(line[cursor:])
    return "".join(plain), tuple(entities)


def _entity_and_value(match: re.Match[str]) -> tuple[str, Any]:
    if match.group("short") is not None:
        entity, _, value = match.group("short").partition(":")
        return entity.strip(), (value.strip() or None)
    try:
        spec = json.loads(match.group("json"))
    except json.JSONDecodeError as exc:
        raise TrainingDataError(f"bad entity annotation {match.group(0)!r}") from exc
    if not isinstance(spec, dict) or "entity" not in spec:
        raise TrainingDataError(f"annotation without an entity: {match.group(0)!r}")
    return str(spec["entity"]), spec.get("value")


def _example_lines(block: object) -> list[str]:
    if not isinstance(block, str):
        raise TrainingDataError("examples must be a literal block of '- ' lines")
    lines = []
    for raw in block.splitlines():
        stripped = raw.strip()
        if stripped.startswith("- "):
            lines.append(stripped[2:].strip())
        elif stripped:
            raise TrainingDataError(f"example line without '- ': {stripped!r}")
    return lines


def _yaml_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml"))
    return [path]


def load_training_data(path: Path) -> TrainingData:
    """Load one YAML file or every YAML file under a directory."""
    items: list[dict[str, Any]] = []
    for file in _yaml_files(path):
        document = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        if not isinstance(document, dict):
            raise TrainingDataError(f"{file}: not a mapping")
        items.extend(item for item in document.get("nlu") or [] if isinstance(item, dict))
    synonyms: dict[str, str] = {}
    regexes: dict[str, tuple[str, ...]] = {}
    lookups: dict[str, tuple[str, ...]] = {}
    for item in items:
        if "synonym" in item:
            for surface in _example_lines(item.get("examples", "")):
                synonyms[surface] = str(item["synonym"])
        elif "regex" in item:
            regexes[str(item["regex"])] = tuple(_example_lines(item.get("examples", "")))
        elif "lookup" in item:
            lookups[str(item["lookup"])] = tuple(_example_lines(item.get("examples", "")))
    examples = []
    for item in items:
        if "intent" not in item:
            continue
        for line in _example_lines(item.get("examples", "")):
            text, entities = parse_annotated(line, synonyms)
            examples.append(Example(text=text, intent=str(item["intent"]), entities=entities))
    if not examples:
        raise TrainingDataError(f"{path}: no intent examples")
    return TrainingData(examples=tuple(examples), synonyms=synonyms, regexes=regexes, lookups=lookups)


def data_hash(paths: Iterable[Path], *, salt: str = "") -> str:
    """A stable hash of the files' names and contents (the cache key of trained models)."""
    digest = hashlib.sha256(salt.encode())
    for path in paths:
        for file in _yaml_files(path):
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]
