"""The contract every NLU backend meets; the bot and the HTTP endpoint depend only on this."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

INTENTS = (
    "greet",
    "goodbye",
    "query_project",
    "report_nuisance",
    "complaint_status",
    "check_credit",
    "query_approval",
    "ask_procedure",
    "query_environment",
    "report_emergency",
    "bind_site",
    "human_agent",
    "out_of_scope",
)
FALLBACK_INTENT = "nlu_fallback"
ENTITY_TYPES = (
    "location",
    "project",
    "project_code",
    "company",
    "nuisance_type",
    "incident_type",
    "ticket_id",
    "application_id",
    "time",
)


@dataclass(frozen=True, slots=True)
class Entity:
    entity: str
    value: Any  # normalised: a nuisance code, a resolved project code, a time range dict, ...
    start: int
    end: int
    text: str = ""
    extractor: str = "embedded"
    confidence: float = 1.0


@dataclass(frozen=True, slots=True)
class ParseResult:
    text: str
    intent: str
    confidence: float
    entities: tuple[Entity, ...] = ()
    ranking: tuple[tuple[str, float], ...] = field(default=())

    def first(self, entity_type: str) -> Entity | None:
        return next((entity for entity in self.entities if entity.entity == entity_type), None)

    def to_rasa_json(self) -> dict[str, Any]:
        """The JSON shape of Rasa's ``/model/parse``."""
        return {
            "text": self.text,
            "intent": {"name": self.intent, "confidence": round(self.confidence, 4)},
            "entities": [
                {
                    "entity": e.entity,
                    "value": e.value,
                    "start": e.start,
                    "end": e.end,
                    "extractor": e.extractor,
                    "confidence_entity": e.confidence,
                }
                for e in self.entities
            ],
            "intent_ranking": [{"name": name, "confidence": round(score, 4)} for name, score in self.ranking],
        }


class NluEngine(Protocol):
    async def parse(self, text: str) -> ParseResult: ...
