"""Text -> sparse TF-IDF vector over character n-grams, Latin words and entity-class markers.

Character n-grams (1-3, not crossing punctuation) stand in for word segmentation: they cover words
jieba would find, survive typos, and cost no dictionary memory. Entity markers (``E:ticket_id``,
``N:noise``) let the classifier generalise from "a ticket number is present" rather than from the
number itself.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nlu.embedded.textnorm import is_cjk

MAX_NGRAM = 3
# Long letters: the grievance opens, the request closes; keep both ends and bound the cost.
HEAD_CHARS = 400
TAIL_CHARS = 300
_NOT_GRAMS = ("len:", "<", "E:", "N:", "M:")  # features that are not n-grams of the text


def _segments(text: str) -> list[list[str]]:
    segments: list[list[str]] = []
    current: list[str] = []
    word: list[str] = []

    def flush_word() -> None:
        if word:
            token = "".join(word)
            current.append("#" * min(len(token), 6) if token.isdigit() else f"w:{token}")
            word.clear()

    for char in text:
        if is_cjk(char):
            flush_word()
            current.append(char)
        elif char.isascii() and char.isalnum():
            word.append(char)
        else:
            flush_word()
            if current:
                segments.append(current)
                current = []
    flush_word()
    if current:
        segments.append(current)
    return segments


def _length_bucket(length: int) -> str:
    for limit, name in ((4, "xs"), (10, "s"), (25, "m"), (60, "l")):
        if length <= limit:
            return name
    return "xl"


def extract_features(norm: str, markers: Iterable[str] = ()) -> Counter[str]:
    text = norm if len(norm) <= HEAD_CHARS + TAIL_CHARS else norm[:HEAD_CHARS] + "。" + norm[-TAIL_CHARS:]
    counts: Counter[str] = Counter()
    # Counter.update over an iterable counts in C; this is most of a long letter's parse time.
    for segment in _segments(text):
        padded = ["^", *segment, "$"]
        counts.update(segment)
        for n in range(2, MAX_NGRAM + 1):
            # zip stops at the shortest shifted copy: exactly the n-grams of the padded segment.
            counts.update(map("".join, zip(*(padded[i:] for i in range(n)), strict=False)))
    counts[f"len:{_length_bucket(len(norm.strip()))}"] += 1
    for marker in markers:
        counts[marker] += 1
    counts["<bias>"] += 1
    return counts


@dataclass(frozen=True, slots=True)
class SparseRows:
    """A CSR matrix: row i has ``indices[indptr[i]:indptr[i+1]]`` with ``data`` weights."""

    indptr: npt.NDArray[np.int64]
    indices: npt.NDArray[np.int64]
    data: npt.NDArray[np.float32]

    @property
    def rows(self) -> int:
        return len(self.indptr) - 1


class Vectorizer:
    def __init__(self, vocabulary: dict[str, int], idf: npt.NDArray[np.float32]) -> None:
        self.vocabulary = vocabulary
        self.idf = idf

    @classmethod
    def fit(cls, documents: Sequence[Counter[str]]) -> Vectorizer:
        document_frequency: Counter[str] = Counter()
        for document in documents:
            document_frequency.update(document.keys())
        vocabulary = {feature: index for index, feature in enumerate(sorted(document_frequency))}
        total = len(documents)
        idf = np.zeros(len(vocabulary), dtype=np.float32)
        for feature, index in vocabulary.items():
            idf[index] = math.log((1 + total) / (1 + document_frequency[feature])) + 1.0
        return cls(vocabulary, idf)

    def row(self, counts: Counter[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        vocabulary = self.vocabulary
        known = [(vocabulary[f], c) for f, c in counts.items() if f in vocabulary]
        indices = np.fromiter((index for index, _ in known), dtype=np.int64, count=len(known))
        # 1 + log(count), vectorised: sublinear term frequency.
        frequency = np.fromiter((c for _, c in known), dtype=np.float32, count=len(known))
        weights = (np.log(frequency) + np.float32(1.0)) * self.idf[indices]
        norm = float(np.linalg.norm(weights))
        return indices, (weights / norm if norm > 0 else weights)

    def transform(self, documents: Sequence[Counter[str]]) -> SparseRows:
        indptr = [0]
        all_indices: list[npt.NDArray[np.int64]] = []
        all_data: list[npt.NDArray[np.float32]] = []
        for document in documents:
            indices, data = self.row(document)
            all_indices.append(indices)
            all_data.append(data)
            indptr.append(indptr[-1] + len(indices))
        return SparseRows(
            np.asarray(indptr, dtype=np.int64),
            np.concatenate(all_indices) if all_indices else np.zeros(0, dtype=np.int64),
            np.concatenate(all_data) if all_data else np.zeros(0, dtype=np.float32),
        )

    def known_fraction(self, counts: Counter[str]) -> float:
        """Share of the text's multi-character n-grams seen in training (out-of-domain evidence)."""
        grams = [f for f in counts if len(f) > 1 and not f.startswith(_NOT_GRAMS)]
        if not grams:
            return 0.0
        return sum(1 for f in grams if f in self.vocabulary) / len(grams)
