"""The in-process NLU engine: trained from nlu/data at startup (about a second) or loaded from a cache
keyed by the data's hash, parsing in well under a millisecond.

Out-of-scope is decided on purpose, not left to the nearest intent: an ``out_of_scope`` class trained on
other government matters and chit-chat, a rule for matters other departments handle (wage arrears,
schools, social security, housing quality), and a coverage test for text unlike anything in training.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from nlu.embedded.classifier import LinearClassifier
from nlu.embedded.extractor import EntityExtractor
from nlu.embedded.features import Vectorizer, extract_features
from nlu.embedded.gazetteer import Gazetteer
from nlu.embedded.lexicon import concept_markers, other_government_matter
from nlu.embedded.textnorm import is_cjk, main_request, normalise
from nlu.interface import FALLBACK_INTENT, Entity, ParseResult
from nlu.training_data import TrainingData, data_hash, load_training_data

log = logging.getLogger(__name__)

DEFAULT_TRAINING_PATH = Path(__file__).resolve().parent.parent / "data"
MODEL_VERSION = "embedded-v2"  # v2: features of the main request (salutations dropped)
TEMPERATURE = 0.5  # sharpens the softmax: chosen by 5-fold cross-validation on the training data
MAX_PARSE_CHARS = 4000  # longer input is cut here; the answer still carries the whole text
THREAD_OVER_CHARS = 1500  # below this a parse is ~0.1 ms and runs inline on the event loop
MIN_KNOWN_FRACTION = 0.12
RANKING_SIZE = 10
_PROCESS_CACHE: dict[str, tuple[TrainingData, Vectorizer, LinearClassifier]] = {}
_PROCESS_CACHE_LOCK = threading.Lock()
OUT_OF_SCOPE = "out_of_scope"
# Entities that only make sense with their intent (a noise *reading* is not a noise *complaint*).
_INTENT_ONLY = {"nuisance_type": "report_nuisance", "incident_type": "report_emergency"}


def _markers(entities: Iterable[Entity], norm: str) -> list[str]:
    markers = []
    for entity in entities:
        markers.append(f"E:{entity.entity}")
        if entity.entity in ("nuisance_type", "incident_type"):
            markers.append(f"N:{entity.value}")
    if other_government_matter(norm):
        markers.append("M:other_matter")
    markers.extend(concept_markers(norm))
    return markers


def _has_content(text: str) -> bool:
    return any(is_cjk(char) or (char.isascii() and char.isalnum()) for char in text)


class EmbeddedEngine:
    def __init__(
        self,
        *,
        vectorizer: Vectorizer,
        classifier: LinearClassifier,
        training: TrainingData,
        fallback_threshold: float,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self._vectorizer = vectorizer
        self._classifier = classifier
        classifier.temperature = TEMPERATURE
        self._extractor = EntityExtractor(synonyms=training.synonyms)
        self._base_locations = tuple(training.lookups.get("location", ()))
        self._base_companies = tuple(
            sorted({*training.lookups.get("company", ()), *_annotated(training, "company")})
        )
        self._base_projects = tuple((name, name) for name in _annotated(training, "project"))
        self._gazetteer = Gazetteer(
            locations=self._base_locations, companies=self._base_companies, projects=self._base_projects
        )
        self._lock = threading.Lock()
        self.fallback_threshold = fallback_threshold
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    # --- building -------------------------------------------------------------------------------
    @classmethod
    def train(cls, training: TrainingData, *, fallback_threshold: float) -> EmbeddedEngine:
        extractor = EntityExtractor(synonyms=training.synonyms)
        gazetteer = Gazetteer(
            locations=training.lookups.get("location", ()),
            companies=sorted({*training.lookups.get("company", ()), *_annotated(training, "company")}),
            projects=[(name, name) for name in _annotated(training, "project")],
        )
        reference = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        documents = []
        for example in training.examples:
            norm = normalise(example.text)
            entities = extractor.extract(norm, example.text, gazetteer=gazetteer, reference=reference)
            documents.append(extract_features(main_request(norm), _markers(entities, norm)))
        vectorizer = Vectorizer.fit(documents)
        rows = vectorizer.transform(documents)
        classifier = LinearClassifier.fit(
            rows, [example.intent for example in training.examples], n_features=len(vectorizer.vocabulary)
        )
        return cls(
            vectorizer=vectorizer,
            classifier=classifier,
            training=training,
            fallback_threshold=fallback_threshold,
        )

    @classmethod
    def load_or_train(
        cls, *, cache_dir: Path | None, fallback_threshold: float, training_path: Path = DEFAULT_TRAINING_PATH
    ) -> EmbeddedEngine:
        """Reuse the model trained for this exact data in this process, else load it from the disk
        cache, else train it and cache it (apps built repeatedly, as in tests, train once)."""
        key = data_hash([training_path], salt=MODEL_VERSION)
        with _PROCESS_CACHE_LOCK:
            cached = _PROCESS_CACHE.get(key)
            first_in_process = cached is None
            if cached is None:
                cached = cls._load_or_train_model(key, training_path, cache_dir)
                _PROCESS_CACHE[key] = cached
        training, vectorizer, classifier = cached
        engine = cls(
            vectorizer=vectorizer,
            classifier=classifier,
            training=training,
            fallback_threshold=fallback_threshold,
        )
        # Written once per process: apps built again and again (tests) do not rewrite megabytes each time.
        if first_in_process and cache_dir is not None and not _cache_file(cache_dir, key).exists():
            engine._save(_cache_file(cache_dir, key))
        return engine

    @classmethod
    def _load_or_train_model(
        cls, key: str, training_path: Path, cache_dir: Path | None
    ) -> tuple[TrainingData, Vectorizer, LinearClassifier]:
        training = load_training_data(training_path)
        cache_file = _cache_file(cache_dir, key) if cache_dir is not None else None
        if cache_file is not None and cache_file.exists():
            try:
                engine = cls._load(cache_file, training, 0.0)
            except (OSError, ValueError, KeyError) as exc:
                log.warning("ignoring unreadable NLU model cache %s: %s", cache_file, exc)
            else:
                return training, engine._vectorizer, engine._classifier
        engine = cls.train(training, fallback_threshold=0.0)
        return training, engine._vectorizer, engine._classifier

    def _save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        features = sorted(self._vectorizer.vocabulary, key=self._vectorizer.vocabulary.__getitem__)
        temporary = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez_compressed(
            temporary,
            vocabulary=np.array(features),
            idf=self._vectorizer.idf,
            weights=self._classifier.weights,
            bias=self._classifier.bias,
            classes=np.array(self._classifier.classes),
        )
        temporary.replace(path)  # atomic: a concurrent reader sees the old file or the new one
        log.info("cached the embedded NLU model at %s", path)

    @classmethod
    def _load(cls, path: Path, training: TrainingData, fallback_threshold: float) -> EmbeddedEngine:
        with np.load(path, allow_pickle=False) as archive:
            vocabulary = {str(feature): index for index, feature in enumerate(archive["vocabulary"])}
            vectorizer = Vectorizer(vocabulary, archive["idf"])
            classifier = LinearClassifier(
                [str(name) for name in archive["classes"]], archive["weights"], archive["bias"]
            )
        return cls(
            vectorizer=vectorizer,
            classifier=classifier,
            training=training,
            fallback_threshold=fallback_threshold,
        )

    # --- gazetteer ------------------------------------------------------------------------------
    def refresh_gazetteer(
        self,
        *,
        projects: Iterable[tuple[str, str]] = (),
        companies: Iterable[str] = (),
        locations: Iterable[str] = (),
    ) -> int:
        """Swap in names from the database; new projects are recognised at once, without retraining."""
        gazetteer = Gazetteer(
            locations=(*self._base_locations, *locations),
            companies=(*self._base_companies, *companies),
            projects=(*self._base_projects, *projects),
        )
        with self._lock:
            self._gazetteer = gazetteer
        return gazetteer.size

    # --- parsing --------------------------------------------------------------------------------
    async def parse(self, text: str) -> ParseResult:
        if isinstance(text, str) and len(text) > THREAD_OVER_CHARS:
            return await asyncio.to_thread(self.parse_sync, text)
        return self.parse_sync(text)

    def parse_sync(self, text: object, *, reference: dt.datetime | None = None) -> ParseResult:
        # Typed loosely on purpose: whatever reaches the engine gets an answer, never an exception.
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        if not text.strip():
            return ParseResult(text=text, intent=FALLBACK_INTENT, confidence=0.0)
        if not _has_content(text):  # emoji, punctuation
            return ParseResult(text=text, intent=OUT_OF_SCOPE, confidence=1.0, ranking=((OUT_OF_SCOPE, 1.0),))
        original = text[:MAX_PARSE_CHARS]
        norm = normalise(original)
        entities = self._extractor.extract(
            norm, original, gazetteer=self._gazetteer, reference=reference or self._clock()
        )
        counts = extract_features(main_request(norm), _markers(entities, norm))
        probabilities = self._classifier.predict_row(*self._vectorizer.row(counts))
        ranking = sorted(
            zip(self._classifier.classes, (float(p) for p in probabilities), strict=True), key=lambda x: -x[1]
        )[:RANKING_SIZE]
        intent, confidence = self._decide(ranking, norm, counts, entities)
        if confidence < self.fallback_threshold:
            ranking = [(FALLBACK_INTENT, self.fallback_threshold), *ranking]
            intent, confidence = FALLBACK_INTENT, self.fallback_threshold
        kept = tuple(e for e in entities if _INTENT_ONLY.get(e.entity, intent) == intent)
        return ParseResult(
            text=text, intent=intent, confidence=confidence, entities=kept, ranking=tuple(ranking)
        )

    def _decide(
        self, ranking: list[tuple[str, float]], norm: str, counts: object, entities: list[Entity]
    ) -> tuple[str, float]:
        intent, confidence = ranking[0]
        scores = dict(ranking)
        site_words = any(
            e.entity in ("nuisance_type", "incident_type", "ticket_id", "application_id") for e in entities
        )
        if intent != "report_emergency" and other_government_matter(norm) and not site_words:
            return OUT_OF_SCOPE, max(scores.get(OUT_OF_SCOPE, 0.0), 0.9)
        known = self._vectorizer.known_fraction(counts)  # type: ignore[arg-type]
        if known < MIN_KNOWN_FRACTION and not entities:
            return OUT_OF_SCOPE, max(scores.get(OUT_OF_SCOPE, 0.0), 1.0 - known)
        return intent, confidence


def _cache_file(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"{MODEL_VERSION}-{key}.npz"


def _annotated(training: TrainingData, entity: str) -> list[str]:
    """Names annotated in the training data (Latin ones excluded: they are translations)."""
    names = {
        annotation.text
        for example in training.examples
        for annotation in example.entities
        if annotation.entity == entity and any(is_cjk(c) for c in annotation.text)
    }
    return sorted(names)
