"""The dialogue engine: cancel words, numbered choices, slot filling with re-prompts, clarification.

One call to ``respond`` is one user turn: load the state from the cache port, decide, run at most one
handler, save the state. Handlers never see another user's state, and nothing here is global, so
several worker processes may serve the same user one message after another.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from bot import messages
from bot.dialogue.registry import IntentTable
from bot.dialogue.store import load_context, load_state, remember_location, save_state
from bot.dialogue.types import BotDeps, ConversationState, IntentSpec, Reply, SlotSpec, Turn
from bot.inbound import InboundMessage
from domain.accounts.rules import mask_openid
from domain.errors import DomainError
from nlu.interface import FALLBACK_INTENT, ParseResult

log = logging.getLogger(__name__)

CANCEL_WORDS = frozenset({"取消", "算了", "不用了", "退出", "不查了", "结束"})
CONFIRM_WORDS = frozenset({"确认", "确定", "提交", "是", "是的", "对", "好", "好的"})
AWAIT_TTL_S = 10 * 60  # a question left unanswered this long is abandoned
MAX_REPROMPTS = 2
MAX_CLARIFY_CHOICES = 3
DEFAULT_CLARIFY = ("query_project", "report_nuisance", "human_agent")
NOT_AN_INTENT = frozenset({FALLBACK_INTENT, "out_of_scope", ""})
LOCATION_INTENT = "query_project"  # a bare location message means "what is being built near here"


_ORDINAL = re.compile(r"^(?:那|那么)?第?([1-9]|[一二三四五六七八九])(?:个|项|条)?(?:呢|吧|的|项目)?[？?。]?$")
_CN_ORDINALS = {c: n for n, c in enumerate("一二三四五六七八九", start=1)}
_LETTERS = re.compile(r"[a-z]", re.IGNORECASE)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_MAX_SAID = 6
CORRECTION_RE = re.compile(r"^(?:不对|不是|错了|搞错了|更正|改一下|应该是)")


def choice_number(text: str) -> int | None:
    """ "2", "第二个", "那第二个呢" -> 2: ellipsis that picks from the numbered list just shown."""
    if text.isascii() and text.isdigit() and len(text) < 4:
        return int(text)
    match = _ORDINAL.match(text)
    if match is None or not (text.startswith(("第", "那")) or len(text) == 1):
        return None
    token = match.group(1)
    return int(token) if token.isdigit() else _CN_ORDINALS[token]


def looks_like_garbage(text: str) -> bool:
    """Keyboard mash ("asdf;lkj"): no Chinese, letters but no project code. Never a goodbye."""
    return bool(text) and not _CJK.search(text) and bool(_LETTERS.search(text)) and "-" not in text


def note_said(turn: Turn) -> None:
    """Keep the user's own words for the dialogue in progress (a complaint's description), not the
    numbers, confirmations and menu clicks that only steer it."""
    text = turn.text
    if text and choice_number(text) is None and text not in CONFIRM_WORDS and text not in turn.state.said:
        turn.state.said = [*turn.state.said, text][-_MAX_SAID:]


@dataclass(frozen=True, slots=True)
class UserInput:
    text: str = ""
    location: tuple[float, float] | None = None
    location_label: str = ""
    intent: str = ""  # forced by a menu click
    message: InboundMessage | None = None


class DialogueEngine:
    def __init__(self, deps: BotDeps, table: IntentTable) -> None:
        self.deps = deps
        self.table = table

    async def respond(self, openid: str, user_input: UserInput, *, now: dt.datetime) -> str:
        cache = self.deps.infra.cache
        state, remembered = await load_context(cache, openid)
        expired = self._expire(state, now)
        text = user_input.text.strip()
        state.remember(text)
        if user_input.location is not None:
            lat, lng = user_input.location
            await remember_location(cache, openid, lat=lat, lng=lng, label=user_input.location_label)
        location = user_input.location or remembered
        turn = Turn(
            openid=openid,
            text=text,
            parse=ParseResult(text=text, intent="", confidence=0.0),
            state=state,
            deps=self.deps,
            now=now,
            location=location,
            location_is_new=user_input.location is not None,
            message=user_input.message,
        )
        reply = await self._dispatch(turn, user_input)
        state.updated_at = now.timestamp()
        await save_state(cache, openid, state)
        return f"{messages.EXPIRED_HINT}\n{reply}" if expired and reply else reply

    async def add_evidence(self, openid: str, media_ref: str, *, now: dt.datetime) -> bool:
        """Attach media to the dialogue in progress; False when no dialogue is collecting anything."""
        cache = self.deps.infra.cache
        state = await load_state(cache, openid)
        self._expire(state, now)
        if media_ref not in state.evidence:
            state.evidence.append(media_ref)
        state.updated_at = now.timestamp()
        await save_state(cache, openid, state)
        return bool(state.intent)

    def _expire(self, state: ConversationState, now: dt.datetime) -> bool:
        abandoned = bool(state.intent or state.choices) and now.timestamp() - state.updated_at > AWAIT_TTL_S
        if abandoned:
            had_question = bool(state.awaiting)
            state.end_dialogue()
            return had_question
        return False

    async def _dispatch(self, turn: Turn, user_input: UserInput) -> str:
        state, text = turn.state, turn.text
        if text in CANCEL_WORDS:
            if not (state.intent or state.choices or state.has_drafts()):
                return messages.NOTHING_TO_CANCEL
            state.end_dialogue()
            state.cancel_drafts()
            return messages.CANCELLED
        if user_input.intent:
            return await self._start(turn, user_input.intent)
        if text:
            turn.parse = await self.deps.nlu.parse(text)
        for intercept in self.table.interceptors:
            reply = await intercept(turn)
            if reply is not None:
                return self._apply_plain(turn.state, reply)
        number = choice_number(text)
        if number is not None and state.choices:
            return await self._pick(turn, number)
        return await self._understand(turn)

    async def on_photo(self, openid: str, media_ref: str, *, now: dt.datetime) -> str | None:
        """A photo a dialogue waits for (an alarm's fix) answers it; None: keep it as evidence."""
        cache = self.deps.infra.cache
        state = await load_state(cache, openid)
        empty = ParseResult(text="", intent="", confidence=0.0)
        turn = Turn(openid=openid, text="", parse=empty, state=state, deps=self.deps, now=now)
        for hook in self.table.photo_hooks:
            reply = await hook(turn, media_ref)
            if reply is not None:
                state.updated_at = now.timestamp()
                await save_state(cache, openid, state)
                return reply.text
        return None

    async def _understand(self, turn: Turn) -> str:
        if turn.state.intent:
            return await self._continue(turn)
        if turn.text:
            return await self._route(turn)
        return await self._start(turn, LOCATION_INTENT) if turn.location_is_new else messages.NOT_UNDERSTOOD

    def _confident(self, parse: ParseResult) -> bool:
        return (
            parse.intent not in NOT_AN_INTENT
            and parse.confidence >= self.deps.settings.nlu_fallback_threshold
        )

    async def _route(self, turn: Turn) -> str:
        parse = turn.parse
        if looks_like_garbage(turn.text):
            return messages.NOT_UNDERSTOOD_HINT
        if parse.intent == "out_of_scope" and parse.confidence >= self.deps.settings.nlu_fallback_threshold:
            return messages.OFF_TOPIC  # honest: what the account can do, never a random menu
        if self._confident(parse):
            if parse.intent in self.table:
                return await self._start(turn, parse.intent)
            return messages.NOT_AVAILABLE
        return self._clarify(turn)

    def _clarify(self, turn: Turn) -> str:
        ranked = [
            name
            for name, _score in turn.parse.ranking
            if name in self.table and name in messages.INTENT_LABELS
        ]  # small talk (greet, goodbye) is never offered as a choice
        candidates = ranked or [name for name in DEFAULT_CLARIFY if name in self.table]
        choices = list(dict.fromkeys(candidates))[:MAX_CLARIFY_CHOICES]
        if not choices:
            return messages.NOT_UNDERSTOOD
        turn.state.end_dialogue()
        turn.state.choices = [{"intent": name, "value": ""} for name in choices]
        turn.state.pending_text = turn.text
        lines = "\n".join(
            messages.CHOICE_LINE.format(number=number, label=messages.INTENT_LABELS.get(name, name))
            for number, name in enumerate(choices, start=1)
        )
        return messages.CLARIFY.format(choices=lines)

    async def _pick(self, turn: Turn, number: int) -> str:
        choices = turn.state.choices
        if not 1 <= number <= len(choices):
            return messages.INVALID_CHOICE.format(count=len(choices))
        picked = choices[number - 1]
        intent, value = picked["intent"], picked["value"]
        spec = self.table.get(intent)
        if spec is None:
            turn.state.end_dialogue()
            return messages.NOT_AVAILABLE
        if value:
            turn.choice = value
            return await self._run(turn, spec)
        # A clarifying question: answer the original text as the chosen intent.
        original = turn.state.pending_text
        parsed = await self.deps.nlu.parse(original) if original else turn.parse
        turn.text = original
        turn.parse = ParseResult(text=original, intent=intent, confidence=1.0, entities=parsed.entities)
        return await self._start(turn, intent)

    async def _start(self, turn: Turn, intent: str) -> str:
        spec = self.table.get(intent)
        if spec is None:
            return messages.NOT_AVAILABLE
        evidence = turn.state.evidence
        # Re-running the same task (a correction, a location at the confirmation) keeps what was said.
        same = turn.state.intent == intent
        said, started_at = (turn.state.said, turn.state.started_at) if same else ([], turn.now.timestamp())
        turn.state.end_dialogue()
        turn.state.evidence = evidence  # photos sent just before the request belong to it
        turn.state.said, turn.state.started_at = said, started_at
        turn.state.intent = intent
        note_said(turn)
        for slot in spec.slots:
            value = self._typed(slot, slot.extract(turn))
            if value is not None:
                turn.state.slots[slot.name] = value
        return await self._next_slot_or_run(turn, spec)

    async def _continue(self, turn: Turn) -> str:
        state, parse = turn.state, turn.parse
        spec = self.table.get(state.intent)
        if spec is not None:
            self._drop_mistyped(state, spec)
        slot = next((s for s in spec.slots if s.name == state.awaiting), None) if spec else None
        # A strict slot's answer ("WL-2026-0001" to "which project?") wins over a switch of task.
        value = self._typed(slot, slot.extract(turn)) if slot is not None and slot.strict else None
        if not state.awaiting and CORRECTION_RE.match(turn.text):
            return await self._start(turn, state.intent)  # "不对，是在万昌路" corrects the open task
        switched = self._confident(parse) and parse.intent != state.intent and parse.intent in self.table
        if value is None and switched:
            return await self._start(turn, parse.intent)  # the user changed the subject
        if not state.awaiting:  # a dialogue kept open by its handler: a new message re-runs it
            return await self._start(turn, state.intent)
        if spec is None or slot is None:
            state.end_dialogue()
            return await self._route(turn) if turn.text else messages.NOT_UNDERSTOOD
        return await self._fill(
            turn, spec, slot, value if value is not None else self._typed(slot, slot.extract(turn))
        )

    @staticmethod
    def _typed(slot: SlotSpec, value: Any) -> Any:
        """The extracted value when it has the slot's type; an extractor returning another type is a
        fault in that dialogue, logged, and the slot is asked for as if nothing was understood."""
        if value is None or slot.accepts(value):
            return value
        log.error(
            "slot %s: extractor returned %s, not %s", slot.name, type(value).__name__, slot.kind.__name__
        )
        return None

    @staticmethod
    def _drop_mistyped(state: ConversationState, spec: IntentSpec) -> None:
        """Slots loaded from the cache are checked against the task's slot types before any use; one
        the task does not declare, or of the wrong type, is forgotten (and asked for again)."""
        kinds = {slot.name: slot for slot in spec.slots}
        kept = {
            name: value for name, value in state.slots.items() if name in kinds and kinds[name].accepts(value)
        }
        if len(kept) != len(state.slots):
            log.warning(
                "dropping mistyped slots of %s: %s", spec.intent, sorted(set(state.slots) - set(kept))
            )
            state.slots = kept

    async def _fill(self, turn: Turn, spec: IntentSpec, slot: SlotSpec, value: Any) -> str:
        state = turn.state
        if value is not None:
            state.slots[slot.name] = value
            state.reprompts = 0
            note_said(turn)
            return await self._next_slot_or_run(turn, spec)
        state.reprompts += 1
        if state.reprompts > MAX_REPROMPTS:
            state.end_dialogue()
            return messages.TOO_MANY_REPROMPTS
        return slot.prompt

    async def _next_slot_or_run(self, turn: Turn, spec: IntentSpec) -> str:
        missing = next((slot for slot in spec.slots if slot.name not in turn.state.slots), None)
        if missing is not None:
            turn.state.awaiting = missing.name
            return missing.prompt
        turn.state.awaiting = ""
        return await self._run(turn, spec)

    async def _run(self, turn: Turn, spec: IntentSpec) -> str:
        try:
            reply = await spec.handler(turn)
        except DomainError as error:
            log.info("dialogue %s for %s ended with %s", spec.intent, mask_openid(turn.openid), error.code)
            turn.state.end_dialogue()
            return messages.ERROR_BY_CODE.get(error.code, messages.INTERNAL_ERROR)
        return self._apply(turn.state, spec, reply)

    @staticmethod
    def _apply_plain(state: ConversationState, reply: Reply) -> str:
        """An interceptor's reply: its choices replace the offered ones only when it offers some."""
        if reply.choices:
            state.choices = [{"intent": intent, "value": value} for intent, value in reply.choices]
        return reply.text

    @staticmethod
    def _apply(state: ConversationState, spec: IntentSpec, reply: Reply) -> str:
        if reply.keep_open:
            state.intent = spec.intent
        else:
            state.end_dialogue()
        state.choices = [{"intent": intent, "value": value} for intent, value in reply.choices]
        return reply.text
