"""The value types of the dialogue engine: state, turns, replies and intent specifications."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from adapters.infrastructure import Infrastructure
from adapters.media_store import MediaStore
from bot.dialogue.frames import (
    TERMINAL,
    Focus,
    Frame,
    FrameError,
    FrameStatus,
    PendingQuestion,
    load_focus,
    load_frame,
    load_question,
)
from bot.dialogue.read_cache import ReadCache
from bot.inbound import InboundMessage
from config.settings import Settings
from domain.approvals.access import ApprovalsEnv
from domain.conversations.faq import FaqIndex
from nlu.interface import NluEngine, ParseResult

HISTORY_SIZE = 5
DRAFTING = frozenset({FrameStatus.COLLECTING, FrameStatus.CONFIRMING})
F = TypeVar("F", bound=Frame)
Q = TypeVar("Q", bound=PendingQuestion)
log = logging.getLogger(__name__)


@dataclass(slots=True)
class ConversationState:
    """One user's conversation, kept as JSON in the cache port with a TTL.

    ``intent``/``slots``/``awaiting`` describe a dialogue collecting slots; ``choices`` are the numbered
    options of the last reply (each ``{"intent": ..., "value": ...}``); ``evidence`` holds media refs
    collected for the dialogue in progress. What tasks keep for the turns that follow is typed
    (``bot.dialogue.frames``): ``frames`` (one per task), ``pending`` (questions the bot waits an answer
    to, with their expiry) and ``focus`` (the entities a pronoun or an ellipsis refers to).
    """

    intent: str = ""
    slots: dict[str, Any] = field(default_factory=dict)
    awaiting: str = ""
    reprompts: int = 0
    choices: list[dict[str, str]] = field(default_factory=list)
    pending_text: str = ""
    frames: dict[str, Frame] = field(default_factory=dict)
    pending: list[PendingQuestion] = field(default_factory=list)
    focus: Focus = field(default_factory=Focus)
    evidence: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    said: list[str] = field(default_factory=list)  # the user's own words in the dialogue in progress
    started_at: float = 0.0  # when the dialogue in progress began: tells its drafts from stale ones
    updated_at: float = 0.0  # epoch seconds of the last turn

    def to_json(self) -> str:
        # Not dataclasses.asdict: its deep copy costs more than the rest of a turn's bookkeeping.
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["frames"] = [frame.to_dict() for frame in self.frames.values()]
        data["pending"] = [question.to_dict() for question in self.pending]
        data["focus"] = {"project_code": self.focus.project_code}
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> ConversationState:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("a conversation state is a JSON object")
        typed = {"frames", "pending", "focus"}
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data and name not in typed}
        state = cls(**known)
        for item in data.get("frames", ()):
            try:
                frame = load_frame(item)
            except FrameError as error:  # an older version's or a corrupted frame: go on without it
                log.warning("dropping a stored frame: %s", error)
                continue
            state.frames[frame.task] = frame
        for item in data.get("pending", ()):
            try:
                state.pending.append(load_question(item))
            except FrameError as error:
                log.warning("dropping a stored pending question: %s", error)
        try:
            state.focus = load_focus(data.get("focus", {}))
        except FrameError as error:
            log.warning("dropping the stored focus: %s", error)
        return state

    def frame(self, kind: type[F]) -> F | None:
        """This task's frame, when it has one."""
        frame = self.frames.get(kind.task)
        return frame if isinstance(frame, kind) else None

    def put(self, frame: Frame) -> None:
        """Keep ``frame`` as its task's frame; a done or cancelled frame leaves the state."""
        if frame.status in TERMINAL:
            self.frames.pop(frame.task, None)
        else:
            self.frames[frame.task] = frame

    def ask(self, question: PendingQuestion) -> None:
        """Wait for an answer to ``question`` (it replaces an older one of its kind)."""
        self.pending = [q for q in self.pending if q.task != question.task] + [question]

    def waiting(self, kind: type[Q], *, now: float) -> Q | None:
        """The unexpired pending question of this kind; expired ones are forgotten."""
        self.pending = [q for q in self.pending if not q.expired(now)]
        return next((q for q in self.pending if isinstance(q, kind)), None)

    def answered(self, question: PendingQuestion) -> None:
        self.pending = [q for q in self.pending if q != question]

    def has_drafts(self) -> bool:
        """A frame still collecting or confirming: "取消" has something to cancel."""
        return any(frame.status in DRAFTING for frame in self.frames.values())

    def cancel_drafts(self) -> None:
        """ "取消": a frame still collecting or confirming is cancelled; answers in focus stay."""
        for frame in list(self.frames.values()):
            if frame.status in DRAFTING:
                self.put(frame.advance(FrameStatus.CANCELLED))

    def end_dialogue(self) -> None:
        """Forget the dialogue in progress (slots, choices, evidence); keep frames, pending and focus."""
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


# Called by the inbound handler for the QR scene ``bind:<token>`` of a subscribe/SCAN event:
# ``async (openid, token, *, now) -> reply``.
BindHook = Callable[..., Awaitable[str]]


@dataclass(frozen=True, slots=True)
class BotHooks:
    """What other contexts lend the bot (registered by the composition root, absent in bare tests)."""

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
    reads: ReadCache = field(default_factory=ReadCache)  # this process's public read answers


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
    # What the slot holds once filled, kept as JSON in the state: a text (a code, a type, an ISO time)
    # or a mapping (a place, a company, a project target). A stored value of another type (an older
    # version's state, a corrupted cache entry) is dropped and asked again, never handed to a handler.
    kind: type[str] | type[dict[str, Any]] = str

    def accepts(self, value: object) -> bool:
        return isinstance(value, self.kind)


@dataclass(frozen=True, slots=True)
class IntentSpec:
    intent: str
    handler: Handler
    slots: tuple[SlotSpec, ...] = ()
