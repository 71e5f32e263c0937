"""Entity extraction: identifier regexes, the gazetteer, nuisance/incident phrases and time
expressions, resolved into non-overlapping spans with normalised values."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from nlu.embedded.gazetteer import Gazetteer
from nlu.embedded.lexicon import INCIDENT_PATTERNS, NUISANCE_PHRASES, incident_code, nuisance_code
from nlu.embedded.timeexpr import find_times
from nlu.interface import Entity

_PROJECT_CODE = re.compile(r"(?<![a-z0-9])wl[-_ ]?(20\d{2})[-_ ]?(\d{4})(?:-s(\d{1,2}))?(?![0-9])")
_TICKET_ID = re.compile(r"(?<![a-z0-9])ts(20\d{9})(?![0-9])")
_APPLICATION_ID = re.compile(r"(?<![a-z0-9])sp[-_ ]?(20\d{2})[-_ ]?(\d{4})(?![0-9])")
# Unknown place names by their suffix; bare 路 is left out (修路, 快速路, 挖开以后路 are not places).
_PLACE = re.compile(r"[\u4e00-\u9fff]{2,4}?(?:大道|大街|街道|镇|村|小区|花园|广场|公园)")
# Characters that cannot start a place name; a match is trimmed past them.
_PLACE_STOP = set(
    "这那的了在是个条修马走道过边上下里去到和与跟从把被我你他她它们有没就还都也很太某对往沿近住家门口该旁"
)
_GENERIC_PLACES = {
    "马路",
    "道路",
    "公路",
    "小路",
    "大路",
    "小区",
    "花园",
    "广场",
    "公园",
    "路面",
    "一路",
    "半路",
}

# Lower sorts first when two candidates overlap with the same length.
_PRIORITY = {"regex": 0, "gazetteer": 1, "incident": 2, "nuisance": 3, "time": 4, "pattern": 5}


@dataclass(frozen=True, slots=True)
class _Candidate:
    entity: Entity
    source: str


def _regex_candidates(norm: str, original: str) -> Iterable[_Candidate]:
    for match in _PROJECT_CODE.finditer(norm):
        value = f"WL-{match.group(1)}-{match.group(2)}" + (f"-S{match.group(3)}" if match.group(3) else "")
        yield _candidate(
            "project_code", value, start=match.start(), end=match.end(), original=original, source="regex"
        )
    for match in _TICKET_ID.finditer(norm):
        yield _candidate(
            "ticket_id",
            f"TS{match.group(1)}",
            start=match.start(),
            end=match.end(),
            original=original,
            source="regex",
        )
    for match in _APPLICATION_ID.finditer(norm):
        value = f"SP{match.group(1)}-{match.group(2)}"
        yield _candidate(
            "application_id", value, start=match.start(), end=match.end(), original=original, source="regex"
        )


def _candidate(
    entity: str, value: object, *, start: int, end: int, original: str, source: str, confidence: float = 1.0
) -> _Candidate:
    return _Candidate(
        Entity(
            entity=entity, value=value, start=start, end=end, text=original[start:end], confidence=confidence
        ),
        source,
    )


class EntityExtractor:
    def __init__(self, *, synonyms: dict[str, str]) -> None:
        self._synonyms = synonyms
        phrases = sorted(
            set(NUISANCE_PHRASES) | {s for s, code in synonyms.items() if _is_nuisance(code)}, key=len
        )
        self._nuisance = re.compile("|".join(re.escape(p.lower()) for p in reversed(phrases)))

    def extract(
        self, norm: str, original: str, *, gazetteer: Gazetteer, reference: dt.datetime
    ) -> list[Entity]:
        """Every candidate from every source; ``_resolve_overlaps`` keeps one entity per span."""
        candidates: list[_Candidate] = list(_regex_candidates(norm, original))
        spans: list[tuple[str, object, int, int, str, float]] = [
            (hit.entity, hit.value, hit.start, hit.end, "gazetteer", hit.confidence)
            for hit in gazetteer.find(norm)
        ]
        spans += [
            (
                "incident_type",
                incident_code(m.group(0), code, self._synonyms),
                m.start(),
                m.end(),
                "incident",
                1.0,
            )
            for code, pattern in INCIDENT_PATTERNS
            for m in pattern.finditer(norm)
        ]
        spans += [
            ("nuisance_type", nuisance_code(m.group(0), self._synonyms), m.start(), m.end(), "nuisance", 1.0)
            for m in self._nuisance.finditer(norm)
        ]
        spans += [
            ("time", t.value, t.start, t.end, "time", 1.0) for t in find_times(norm, reference=reference)
        ]
        candidates += [
            _candidate(
                entity, value, start=start, end=end, original=original, source=source, confidence=confidence
            )
            for entity, value, start, end, source, confidence in spans
        ]
        candidates.extend(_place_candidates(norm, original))
        return _resolve_overlaps(candidates)


def _is_nuisance(code: str) -> bool:
    return code in ("noise", "night_construction", "dust", "muck_truck", "road_damage", "light")


def _place_candidates(norm: str, original: str) -> Iterable[_Candidate]:
    for match in _PLACE.finditer(norm):
        start = match.start()
        while start < match.end() and norm[start] in _PLACE_STOP:
            start += 1
        name = norm[start : match.end()]
        if len(name) >= 3 and name not in _GENERIC_PLACES and not any(c in _PLACE_STOP for c in name[:-1]):
            yield _candidate(
                "location",
                original[start : match.end()],
                start=start,
                end=match.end(),
                original=original,
                source="pattern",
                confidence=0.7,
            )


def _resolve_overlaps(candidates: list[_Candidate]) -> list[Entity]:
    ordered = sorted(
        candidates,
        key=lambda c: (_PRIORITY[c.source] > 0, -(c.entity.end - c.entity.start), _PRIORITY[c.source]),
    )
    kept: list[Entity] = []
    for candidate in ordered:
        entity = candidate.entity
        if all(entity.end <= other.start or entity.start >= other.end for other in kept):
            kept.append(entity)
    return _one_incident_per_code(sorted(kept, key=lambda e: e.start))


def _one_incident_per_code(entities: list[Entity]) -> list[Entity]:
    """塌方…有人埋在里面 is one excavation collapse told twice: keep its first mention."""
    seen: set[object] = set()
    kept = []
    for entity in entities:
        if entity.entity == "incident_type":
            if entity.value in seen:
                continue
            seen.add(entity.value)
        kept.append(entity)
    return kept
