"""Retrieval over the FAQ of rule and procedure questions (pure: the bootstrap loads the entries).

Character bigrams weighted by inverse document frequency, scored against each entry's example
questions and keywords: short Chinese questions share few whole words but many bigrams ("晚上几点必须
停工" ~ "工地晚上几点必须停工"). Good enough for a few dozen entries, and explainable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MIN_SCORE = 0.35
_NOISE = re.compile(r"[\s，。！？、,.!?；;：:“”\"'（）()]+")


@dataclass(frozen=True, slots=True)
class FaqEntry:
    key: str
    answer: str
    questions: tuple[str, ...]
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FaqMatch:
    entry: FaqEntry
    score: float


def bigrams(text: str) -> set[str]:
    cleaned = _NOISE.sub("", text.lower())
    return {cleaned[i : i + 2] for i in range(len(cleaned) - 1)} or ({cleaned} if cleaned else set())


class FaqIndex:
    def __init__(self, entries: Iterable[FaqEntry]) -> None:
        self.entries = tuple(entries)
        documents = [set().union(*self._grams(entry)) for entry in self.entries]
        count = max(len(documents), 1)
        frequency: dict[str, int] = {}
        for grams in documents:
            for gram in grams:
                frequency[gram] = frequency.get(gram, 0) + 1
        self._idf = {gram: math.log(1 + count / seen) for gram, seen in frequency.items()}

    @staticmethod
    def _grams(entry: FaqEntry) -> list[set[str]]:
        return [bigrams(question) for question in entry.questions] + [
            bigrams(word) for word in entry.keywords
        ]

    @classmethod
    def from_config(cls, raw: Iterable[Mapping[str, Any]]) -> FaqIndex:
        return cls(
            FaqEntry(
                key=str(item["key"]),
                answer=str(item["answer"]).strip(),
                questions=tuple(str(q) for q in item.get("questions", ())),
                keywords=tuple(str(k) for k in item.get("keywords", ())),
            )
            for item in raw
        )

    def _weight(self, grams: set[str]) -> float:
        return sum(self._idf.get(gram, 0.0) for gram in grams)

    def best(self, text: str) -> FaqMatch | None:
        """The entry whose best example question shares the most weighted bigrams with ``text``
        (recall of the question's bigrams, plus a little for each keyword present); None below MIN_SCORE."""
        asked = bigrams(text)
        if not asked:
            return None
        scored = [FaqMatch(entry, self._score(entry, asked, text)) for entry in self.entries]
        best = max(scored, key=lambda match: match.score, default=None)
        return best if best is not None and best.score >= MIN_SCORE else None

    def _score(self, entry: FaqEntry, asked: set[str], text: str) -> float:
        questions = [bigrams(question) for question in entry.questions]
        overlap = max(
            (self._weight(asked & grams) / max(self._weight(grams | asked), 1e-9) for grams in questions),
            default=0.0,
        )
        keyword_bonus = 0.1 * sum(1 for word in entry.keywords if word in text)
        return overlap + min(keyword_bonus, 0.3)
