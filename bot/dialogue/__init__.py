"""The dialogue engine of the official account, and how other contexts add their dialogues.

Adding a dialogue (complaints, approvals, credit, alerts binding, emergency, ...)
--------------------------------------------------------------------------------
Create ``bot/dialogues/<name>.py`` defining ``DIALOGUES: tuple[IntentSpec, ...]``; every module there
is loaded into the intent table at start-up (``registry.load_dialogues``). An intent name is one of
``nlu.interface.INTENTS`` (the NLU decides which intent a message has) and may appear in one module only.

    from bot.dialogue import IntentSpec, Reply, SlotSpec, Turn

    async def report_nuisance(turn: Turn) -> Reply:
        # turn.slots: the filled slots; turn.parse: nlu ParseResult (intent, confidence, entities);
        # turn.text; turn.location (lat, lng) from this message or remembered ("附近"), or None;
        # turn.state.evidence: media refs (MediaStore) of photos sent during this dialogue;
        # turn.state.frame(ComplaintFrame) / turn.state.put(frame): the typed frame this task keeps
        # across turns (bot.dialogue.frames); turn.state.focus: the project last named (ellipsis);
        # turn.state.ask(question) / turn.state.waiting(kind, now=...): pending questions, with expiry;
        # turn.deps: settings, infra (cache, dedup, bus, lock, geo), media, nlu, wechat, approvals,
        # hooks (BotHooks);
        # turn.choice: the value of the numbered choice picked, when this call answers a "1"/"2" reply;
        # turn.now: aware UTC datetime; turn.openid: the citizen (log it only via mask_openid).
        ticket_id = await complaints.submit(...)   # domain services only, never models
        return Reply(text=messages.COMPLAINT_ACCEPTED.format(...))

    DIALOGUES = (
        IntentSpec(
            intent="report_nuisance",
            handler=report_nuisance,
            slots=(SlotSpec("nuisance_type", prompt=messages.ASK_NUISANCE, extract=lambda t: ...),),
        ),
    )

Contract of a handler: ``async def handler(turn: Turn) -> Reply``.
- It runs only once every slot of its ``IntentSpec`` is filled. ``SlotSpec.extract(turn)`` is a cheap,
  synchronous function returning the slot value or ``None``; a missing slot is asked for with
  ``prompt`` and re-asked at most twice, then the dialogue ends.
- Slots are typed: ``SlotSpec(kind=str)`` (the default) or ``kind=dict`` (a place, a company). The
  engine refuses a value of another type from an extractor (logged; the slot is asked for again) and
  checks slots loaded from the cache before the handler sees them (an older version's or a corrupted
  value is forgotten and asked again).
- ``Reply(text, keep_open=False, choices=())``: ``keep_open=True`` keeps the intent active so that
  the next message re-runs this handler (frames and evidence kept; slots are extracted afresh from
  the new message, so keep what must survive the turn in a typed frame of ``bot.dialogue.frames``:
  add a frozen dataclass there, to ``FRAME_TYPES``, and ``put`` it); ``choices`` is a tuple of
  ``(intent, value)`` pairs shown as numbered lines by the handler's own text: when the user answers
  "2", the handler of the second pair's intent is called with ``turn.choice == value``.
- Text is Simplified Chinese from ``bot/messages.py`` (add your strings there). Length is free: the
  webhook splits replies over 2048 bytes and pushes the rest; it also escapes CDATA.
- Raise a ``domain.errors.DomainError`` for expected failures: the engine ends the dialogue and answers
  ``messages.ERROR_BY_CODE[code]`` (add your codes there).
- Each message runs the handler at most once (the webhook dedups WeChat's retries), but a slow handler
  (past ``settings.wechat_reply_budget_s``) is answered by a pushed message instead of a passive reply.
  Side effects must still be idempotent per message when possible: use ``turn.message.dedup_key``.
- The engine handles ``取消``/``算了``, numbered choices, expiry of abandoned dialogues (10 min),
  low NLU confidence (a clarifying question) and ``转人工`` (the staff queue).

Frames in context (tried before the NLU routes a message): a module may also define
- ``INTERCEPTORS: tuple[Interceptor, ...]``: ``async (turn) -> Reply | None``, for what the last turns
  make meaningful: "还有吗" after a list, a bare "1" answering a pushed rating question, "收到" to an
  alarm, a rule question, a corrected binding code; ``None`` means "not mine". ``PRIORITY`` (default
  50) orders the modules.
Pending questions are typed frames with an expiry (``frames.PendingQuestion``): ``AlarmFixQuestion``
("请发送整改后的现场照片") and ``RatingQuestion`` (pushed with a staff reply; the complaint record
stays the truth, since the push leaves another process, and the frame is refreshed from it). A bare
number answers the numbered question the bot asked last; a rating word always rates.
A task still being collected after its handler ran is a frame in ``COLLECTING`` (``BindingFrame``
after a refused code): "取消" cancels it like a draft.
- ``PHOTO_HOOKS``: ``async (turn, media_ref) -> Reply | None``, for a frame waiting for a photo.
A ``SlotSpec(strict=True)`` is filled by its answer before the message may switch task ("WL-2026-0001"
answers "which project?"). "不对，……" re-runs the open task with the correction. ``state.said`` keeps the
user's own words of the dialogue in progress; ``state.started_at`` tells its drafts from stale ones.

Hooks the bot calls when the composition root lends them (``BotDeps.hooks``, typed ``BotHooks``):
- ``bind_site``: ``async (openid: str, token: str, *, now: datetime) -> str`` — the Chinese reply,
  for a subscribe/SCAN event with the QR scene ``bind:<token>`` (the alerts context provides it).
"""

from bot.dialogue.engine import DialogueEngine, UserInput
from bot.dialogue.registry import IntentTable, load_dialogues
from bot.dialogue.types import BotDeps, ConversationState, IntentSpec, Reply, SlotSpec, Turn

__all__ = [
    "BotDeps",
    "ConversationState",
    "DialogueEngine",
    "IntentSpec",
    "IntentTable",
    "Reply",
    "SlotSpec",
    "Turn",
    "UserInput",
    "load_dialogues",
]
