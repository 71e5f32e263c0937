"""Names from the database (projects, enterprises, roads) and the training lookup tables, matched
exactly through aliases and fuzzily through shared character bigrams.

A ``Gazetteer`` is immutable; refreshing builds a new one and swaps the reference, so a parse running
in a thread never sees a half-built index and nothing is retrained.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

_COMPANY_PREFIXES = ("浙江省", "浙江", "台州市", "台州", "温岭市")
_COMPANY_SUFFIXES = ("股份有限公司", "集团有限公司", "有限责任公司", "有限公司", "公司")
_PROJECT_SUFFIXES = (
    "道路提升改造工程",
    "提升改造工程",
    "改造工程",
    "新建工程",
    "改建工程",
    "加固工程",
    "整治工程",
    "除险加固工程",
    "住宅小区",
    "标准厂房",
    "工程",
    "项目",
)
_NUMBER_TAIL = re.compile(r"[（(]\d+[)）]$")
MIN_ALIAS_CHARS = 3
FUZZY_MIN_SHARED = 3
FUZZY_MIN_RATIO = 0.6
COMMON_BIGRAM_NAMES = 40

# Romanised town and road names for messages typed without a Chinese input method.
PINYIN_LOCATIONS = {
    "taiping": "太平街道",
    "chengdong": "城东街道",
    "chengxi": "城西街道",
    "chengbei": "城北街道",
    "hengfeng": "横峰街道",
    "zeguo": "泽国镇",
    "daxi": "大溪镇",
    "songmen": "松门镇",
    "ruoheng": "箬横镇",
    "xinhe": "新河镇",
    "shitang": "石塘镇",
    "binhai": "滨海镇",
    "wenqiao": "温峤镇",
    "chengnan": "城南镇",
    "shiqiaotou": "石桥头镇",
    "wugen": "坞根镇",
    "wenling": "温岭",
}
# One pass for all of them; hits keep the order of PINYIN_LOCATIONS, then of position.
_PINYIN_WORD = re.compile(r"\b(" + "|".join(PINYIN_LOCATIONS) + r")\b")
_PINYIN_ORDER = {word: order for order, word in enumerate(PINYIN_LOCATIONS)}
_PINYIN_ROAD = re.compile(r"\b[a-z]{3,12}(?: [a-z]{2,8})? (?:road|rd|avenue|ave|street|st)\b")


@dataclass(frozen=True, slots=True)
class NameHit:
    entity: str
    value: str
    start: int
    end: int
    confidence: float


def _company_aliases(name: str) -> set[str]:
    aliases = {name}
    core = name
    for prefix in _COMPANY_PREFIXES:
        if core.startswith(prefix):
            core = core[len(prefix) :]
            break
    aliases.add(core)
    for suffix in _COMPANY_SUFFIXES:
        if core.endswith(suffix):
            core = core[: -len(suffix)]
            break
    core = re.sub(r"\d+$", "", core)
    aliases.add(core)
    if core.endswith("集团"):
        aliases.add(core[:-2])
    return {alias for alias in aliases if len(alias) >= MIN_ALIAS_CHARS}


def _project_aliases(name: str) -> set[str]:
    name = _NUMBER_TAIL.sub("", name)
    aliases = {name}
    for suffix in _PROJECT_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 4:
            aliases.add(name[: -len(suffix)])
    return aliases


def _bigrams(text: str) -> list[str]:
    return [text[i : i + 2] for i in range(len(text) - 1)]


class Gazetteer:
    def __init__(
        self,
        *,
        locations: Iterable[str] = (),
        projects: Iterable[tuple[str, str]] = (),
        companies: Iterable[str] = (),
    ) -> None:
        self._exact: dict[str, tuple[str, str]] = {}
        location_set = {name for name in locations if len(name) >= 2}
        for name in location_set:
            self._exact[name] = ("location", name)
        self._fuzzy_names: list[tuple[str, str, str]] = []  # (entity, value, name)
        for name in companies:
            for alias in _company_aliases(name):
                if alias not in location_set:
                    self._exact.setdefault(alias, ("company", name))
            self._fuzzy_names.append(("company", name, name))
        for code, name in projects:
            for alias in _project_aliases(name):
                if alias not in location_set and len(alias) >= 4:
                    self._exact[alias] = ("project", code)
            self._fuzzy_names.append(("project", code, _NUMBER_TAIL.sub("", name)))
        self._lengths: dict[str, list[int]] = defaultdict(list)
        for alias in self._exact:
            self._lengths[alias[0]].append(len(alias))
        for first, lengths in self._lengths.items():
            self._lengths[first] = sorted(set(lengths), reverse=True)
        self._bigram_index: dict[str, list[int]] = defaultdict(list)
        for position, (_, _, name) in enumerate(self._fuzzy_names):
            for gram in set(_bigrams(name)):
                self._bigram_index[gram].append(position)

    @property
    def size(self) -> int:
        return len(self._exact)

    def find(self, text: str) -> list[NameHit]:
        """Exact alias matches (longest first, left to right), then fuzzy names in the gaps."""
        hits: list[NameHit] = []
        taken = [False] * len(text)
        position = 0
        while position < len(text):
            hit = self._exact_at(text, position)
            if hit is None:
                position += 1
                continue
            hits.append(hit)
            for index in range(hit.start, hit.end):
                taken[index] = True
            position = hit.end
        hits.extend(self._fuzzy(text, taken))
        for match in _PINYIN_ROAD.finditer(text):
            if not any(taken[match.start() : match.end()]):
                hits.append(NameHit("location", match.group(0), match.start(), match.end(), 0.8))
        words = sorted(_PINYIN_WORD.finditer(text), key=lambda m: (_PINYIN_ORDER[m.group(1)], m.start()))
        for match in words:
            if not any(taken[match.start() : match.end()]) and not _PINYIN_ROAD.search(text, match.start()):
                place = PINYIN_LOCATIONS[match.group(1)]
                hits.append(NameHit("location", place, match.start(), match.end(), 0.8))
        return hits

    def _exact_at(self, text: str, position: int) -> NameHit | None:
        for length in self._lengths.get(text[position], ()):
            if position + length > len(text):
                continue
            candidate = text[position : position + length]
            found = self._exact.get(candidate)
            if found is not None:
                return NameHit(found[0], found[1], position, position + length, 1.0)
        return None

    def _fuzzy(self, text: str, taken: list[bool]) -> list[NameHit]:
        text_positions: dict[str, list[int]] = defaultdict(list)
        for position, gram in enumerate(_bigrams(text)):
            if not (taken[position] or taken[position + 1]):
                text_positions[gram].append(position)
        # Only distinctive bigrams nominate candidates (工程, 小区, 有限 are in thousands of names);
        # each candidate is then scored on all its bigrams.
        nominated: set[int] = set()
        for gram in text_positions:
            postings = self._bigram_index.get(gram, ())
            if len(postings) <= COMMON_BIGRAM_NAMES:
                nominated.update(postings)
        candidates = []
        for name_index in nominated:
            name = self._fuzzy_names[name_index][2]
            positions = [p for gram in set(_bigrams(name)) for p in text_positions.get(gram, ())]
            ratio = min(1.0, len(positions) / max(1, len(name) - 1))
            if len(positions) >= FUZZY_MIN_SHARED and ratio >= FUZZY_MIN_RATIO:
                candidates.append((ratio, len(positions), name_index, positions))
        hits = []
        for ratio, _, name_index, positions in sorted(candidates, reverse=True):
            entity, value, name = self._fuzzy_names[name_index]
            start, end = _widen(text, taken, min(positions), max(positions) + 2, name)
            if end - start > len(name) * 1.5 or any(taken[start:end]):
                continue
            hits.append(NameHit(entity, value, start, end, round(0.6 + 0.35 * ratio, 3)))
            for index in range(start, end):
                taken[index] = True
        return hits


def _widen(text: str, taken: list[bool], start: int, end: int, name: str) -> tuple[int, int]:
    """Take in one mistyped character at either end (锦秀苑 for 锦绣苑) when the span is short."""
    short = end - start < len(name)
    if short and text[start] != name[0] and start > 0 and not taken[start - 1] and _cjk(text[start - 1]):
        start -= 1
    short = end - start < len(name)
    if short and text[end - 1] != name[-1] and end < len(text) and not taken[end] and _cjk(text[end]):
        end += 1
    return start, end


def _cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"
