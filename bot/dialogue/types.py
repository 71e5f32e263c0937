"""The value types of the dialogue engine: state, turns, replies and intent specifications."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.infrastructure import Infrastructure
from adapters.media_store import MediaStore
from bot.inbound import InboundMessage
from config.settings import Settings
from domain.approvals.access import ApprovalsEnv
from domain.conversations.faq import FaqIndex
from nlu.interface import NluEngine, ParseResult

HISTORY_SIZE = 5


@dataclass(slots=True)
class ConversationState:
    """One user's conversation, kept as JSON in the cache port with a TTL.

    ``intent``/``slots``/``awaiting`` describe a dialogue collecting slots; ``choices`` are the numbered
    options of the last reply (each ``{"intent": ..., "value": ...}``); ``context`` is what follow-up
    questions need (e.g. ``project_code``), per dialogue; ``evidence`` holds media refs collected for the
    dialogue in progress.
    """

    intent: str = ""
    slots: dict[str, Any] = field(default_factory=dict)
    awaiting: str = ""
    reprompts: int = 0
    choices: list[dict[str, str]] = field(default_factory=list)
    pending_text: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    said: list[str] = field(default_factory=list)  # the user's own words in the dialogue in progress
    started_at: float = 0.0  # when the dialogue in progress began: tells its drafts from stale ones
    updated_at: float = 0.0  # epoch seconds of the last turn

    def to_json(self) -> str:
        # Not dataclasses.asdict: its deep copy costs more than the rest of a turn's bookkeeping.
        return json.dumps(
            {name: getattr(self, name) for name in self.__dataclass_fields__}, ensure_ascii=False
        )

    @classmethod
    def from_json(cls, raw: str) -> ConversationState:
        data = json.loads(raw)
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)

    def end_dialogue(self) -> None:
        """Forget the dialogue in progress (slots, choices, evidence); keep follow-up context."""
        self.intent = ""
        self.slots = {}
        self.awaiting = ""
        self.reprompts = 0
        self.choices = []
        self.pending_text = ""
        self.evidence = []
        self.said = []
        self.started_at = 0.0

    def remember(self, text: str) -> None:
        if text:
            self.history = [*self.history, text][-HISTORY_SIZE:]


# Called by the inbound handler before the dialogue engine: ``async (openid, text, *, now) -> reply or
# None`` for a rating typed after a staff reply, and ``async (openid, token, *, now) -> reply`` for the
# QR scene ``bind:<token>`` of a subscribe/SCAN event.
RatingHook = Callable[..., Awaitable[str | None]]
BindHook = Callable[..., Awaitable[str]]


@dataclass(frozen=True, slots=True)
class BotHooks:
    """What other contexts lend the bot (registered by the composition root, absent in bare tests)."""

    complaint_rating: RatingHook | None = None
    bind_site: BindHook | None = None
    faq: FaqIndex | None = None  # rule and procedure questions answered from config/faq.yml


@dataclass(frozen=True, slots=True)
class BotDeps:
    """What handlers may use, each typed; the composition root fills what this process has."""

    settings: Settings
    infra: Infrastructure
    nlu: NluEngine
    media: MediaStore | None = None
    wechat: Any = None  # the outbound WeChat client (get_media, create_menu), when configured
    approvals: ApprovalsEnv | None = None  # the process's approvals environment (runtime.approvals)
    hooks: BotHooks = field(default_factory=BotHooks)


@dataclass(slots=True)
class Turn:
    """One user turn as a handler sees it. Handlers may change ``state`` (it is saved after the turn)."""

    openid: str
    text: str
    parse: ParseResult
    state: ConversationState
    deps: BotDeps
    now: dt.datetime
    location: tuple[float, float] | None = None  # from this message, else the remembered one
    location_is_new: bool = False  # True when this very message carried the location
    choice: str = ""  # the value of a numbered choice the user picked ("" otherwise)
    message: InboundMessage | None = None

    @property
    def slots(self) -> dict[str, Any]:
        return self.state.slots


@dataclass(frozen=True, slots=True)
class Reply:
    """What a handler answers. ``keep_open`` keeps its intent active (the next message continues it);
    ``choices`` become the numbered options the user may answer with "1", "2", ..."""

    text: str
    keep_open: bool = False
    choices: tuple[tuple[str, str], ...] = ()  # (intent, value) per number, in order


Handler = Callable[[Turn], Awaitable[Reply]]
# Tried in order before the NLU routes a message: a pushed question answered in context, a follow-up
# ("还有吗"), a rule question, an alarm acknowledged. ``None`` means "not mine".
Interceptor = Callable[[Turn], Awaitable[Reply | None]]
# A photo arrived: a dialogue waiting for one (an alarm's fix) answers; ``None`` means "not mine".
PhotoHook = Callable[[Turn, str], Awaitable[Reply | None]]
Extractor = Callable[[Turn], Any]


@dataclass(frozen=True, slots=True)
class SlotSpec:
    """A value the dialogue needs before its handler runs: ``extract`` returns it or None; ``prompt``
    asks for it (re-asked up to the engine's limit)."""

    name: str
    prompt: str
    extract: Extractor
    # A strict slot (a project code, a binding code) is filled by the answer before the message may
    # switch the task: "WL-2026-0001" answers "which project?" even though alone it reads as a query.
    strict: bool = False


@dataclass(frozen=True, slots=True)
class IntentSpec:
    intent: str
    handler: Handler
    slots: tuple[SlotSpec, ...] = ()
