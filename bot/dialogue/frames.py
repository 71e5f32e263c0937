"""Typed frames: what each task remembers between turns, with a life cycle and a validating JSON codec.

The engine's slot filling (``ConversationState.intent``/``slots``/``awaiting``, each slot typed by
its ``SlotSpec.kind``) collects one task's values during a turn or two; a frame is what a task keeps
*after* its handler ran, for the turns that follow: the numbered list just shown ("还有吗", "2"), a
complaint draft waiting for "确认", the incident a reporter's later messages belong to, a binding
whose code was refused. A ``ConversationState`` holds at most one frame per task
(``state.frame(ComplaintFrame)``, ``state.put(frame)``), the pending questions the bot asked and
waits for (``AlarmFixQuestion``, ``RatingQuestion``, each with its expiry), and the ``Focus``: the
entities last resolved, which a pronoun or an ellipsis ("那噪声呢", "什么时候完工") refers to. An
entity named in the new message overrides the focus; that decision stays in each dialogue's
extractor.

Life cycle (``FrameStatus``, read ``TRANSITIONS``): collecting → confirming (a draft shown for
confirmation) → done or cancelled; a query's answer is ``open`` (in focus for follow-ups) until the
task is done. A frame that reaches ``done`` or ``cancelled`` leaves the state.

Frames are frozen values. ``from_dict`` validates every field against its annotation: a frame written
by an older version or corrupted in the cache raises ``FrameError``, and the state loader drops that
frame (the conversation goes on without it) instead of failing the user's message.
"""

from __future__ import annotations

import dataclasses
import json
import types
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, TypeVar, Union, get_args, get_origin, get_type_hints


class FrameError(ValueError):
    """A stored frame that cannot be trusted: unknown task, missing field or wrong type."""


class FrameStatus(StrEnum):
    COLLECTING = "collecting"
    CONFIRMING = "confirming"
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


TRANSITIONS: dict[FrameStatus, frozenset[FrameStatus]] = {
    FrameStatus.COLLECTING: frozenset(
        {FrameStatus.CONFIRMING, FrameStatus.OPEN, FrameStatus.DONE, FrameStatus.CANCELLED}
    ),
    # A correction at the confirmation goes back to collecting; a new location re-drafts it.
    FrameStatus.CONFIRMING: frozenset(
        {FrameStatus.COLLECTING, FrameStatus.CONFIRMING, FrameStatus.DONE, FrameStatus.CANCELLED}
    ),
    FrameStatus.OPEN: frozenset({FrameStatus.OPEN, FrameStatus.DONE, FrameStatus.CANCELLED}),
    FrameStatus.DONE: frozenset(),
    FrameStatus.CANCELLED: frozenset(),
}
TERMINAL = frozenset({FrameStatus.DONE, FrameStatus.CANCELLED})


class InvalidFrameTransition(ValueError):
    def __init__(self, task: str, current: FrameStatus, target: FrameStatus) -> None:
        super().__init__(f"frame {task}: {current} -> {target} is not allowed")


def _decode(value: object, hint: Any, name: str) -> Any:
    """``value`` as ``hint`` (lists become tuples, ints may be floats), or FrameError."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        return _decode_union(value, get_args(hint), name)
    if origin is tuple:
        return _decode_tuple(value, get_args(hint), name)
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        if isinstance(value, str) and value in hint._value2member_map_:
            return hint(value)
    elif _is_scalar(value, hint):
        return float(value) if hint is float else value  # type: ignore[arg-type]
    raise FrameError(f"{name}: {value!r} is not {hint}")


def _is_scalar(value: object, hint: Any) -> bool:
    if isinstance(value, bool):
        return hint is bool
    if hint is float:
        return isinstance(value, int | float)
    if hint is type(None):
        return value is None
    return hint in (int, str, bool) and isinstance(value, hint)


def _decode_union(value: object, options: tuple[Any, ...], name: str) -> Any:
    for option in options:
        try:
            return _decode(value, option, name)
        except FrameError:
            continue
    raise FrameError(f"{name}: {value!r} is none of {options}")


def _decode_tuple(value: object, args: tuple[Any, ...], name: str) -> tuple[Any, ...]:
    if isinstance(value, list | tuple):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(item, args[0], name) for item in value)
        if len(value) == len(args):
            return tuple(_decode(item, arg, name) for item, arg in zip(value, args, strict=True))
    raise FrameError(f"{name}: {value!r} is not a tuple of {args}")


F = TypeVar("F", bound="BaseFrame")


_FIELD_TYPES: dict[type, tuple[tuple[str, Any], ...]] = {}


def _field_types(cls: type) -> tuple[tuple[str, Any], ...]:
    """A frame class's fields and their resolved types, once per class: ``get_type_hints`` parses
    the string annotations again on every call, and every message loads its frames (it was a
    twentieth of the webhook's CPU)."""
    known = _FIELD_TYPES.get(cls)
    if known is None:
        hints = get_type_hints(cls)
        known = _FIELD_TYPES[cls] = tuple((spec.name, hints[spec.name]) for spec in dataclasses.fields(cls))
    return known


class BaseFrame:
    """What every frame shares: its ``task`` name, a ``status`` and the JSON codec."""

    __slots__ = ()
    task: ClassVar[str]
    status: FrameStatus

    def advance(self: F, status: FrameStatus) -> F:
        """This frame in ``status``, along ``TRANSITIONS`` only."""
        if status not in TRANSITIONS[self.status]:
            raise InvalidFrameTransition(self.task, self.status, status)
        return dataclasses.replace(self, status=status)  # type: ignore[type-var]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"task": self.task}
        for spec in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, spec.name)
            data[spec.name] = list(value) if isinstance(value, tuple) else value
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls: type[F], data: object) -> F:
        if not isinstance(data, dict) or data.get("task") != cls.task:
            raise FrameError(f"not a {cls.task} frame: {data!r}"[:200])
        values: dict[str, Any] = {}
        for name, hint in _field_types(cls):
            if name not in data:
                raise FrameError(f"{cls.task}: missing {name}")
            values[name] = _decode(data[name], hint, f"{cls.task}.{name}")
        return cls(**values)

    @classmethod
    def from_json(cls: type[F], raw: str) -> F:
        return cls.from_dict(json.loads(raw))


@dataclass(frozen=True, slots=True)
class ProjectQueryFrame(BaseFrame):
    """The project list last shown: the codes its numbers pick (``offered``), and how to page on
    ("还有吗"): a text search (``term``) or a nearby search (``near``, ``radius_m``). ``page`` 0: no list."""

    task: ClassVar[str] = "query_project"
    status: FrameStatus = FrameStatus.OPEN
    offered: tuple[str, ...] = ()
    page: int = 0
    term: str = ""
    construction: bool = False
    near: tuple[float, float] | None = None
    radius_m: int = 0


@dataclass(frozen=True, slots=True)
class ComplaintFrame(BaseFrame):
    """A nuisance report drafted and shown for confirmation; only the dialogue that drafted it
    (``dialogue_started_at``) and only for a while (``drafted_at``) may confirm it."""

    task: ClassVar[str] = "report_nuisance"
    status: FrameStatus
    nuisance_type: str
    address: str
    lat: float | None
    lng: float | None
    occurred_at: str  # ISO 8601, aware
    drafted_at: float
    dialogue_started_at: float

    def where(self) -> dict[str, Any]:
        """The ``where`` slot this draft was made from."""
        place: dict[str, Any] = {"address": self.address}
        if self.lat is not None and self.lng is not None:
            place |= {"lat": self.lat, "lng": self.lng}
        return place


@dataclass(frozen=True, slots=True)
class EnvironmentFrame(BaseFrame):
    """An environment summary was shown: "那噪声呢" asks again about the project in focus."""

    task: ClassVar[str] = "query_environment"
    project_code: str
    status: FrameStatus = FrameStatus.OPEN


@dataclass(frozen=True, slots=True)
class EmergencyFrame(BaseFrame):
    """The incident this reporter opened: their later messages (a location, an address) go to it."""

    task: ClassVar[str] = "report_emergency"
    incident_code: str
    opened_at: float
    status: FrameStatus = FrameStatus.OPEN


@dataclass(frozen=True, slots=True)
class ApprovalFrame(BaseFrame):
    """The application last asked about: "我的审批呢" falls back to it."""

    task: ClassVar[str] = "query_approval"
    application_code: str
    status: FrameStatus = FrameStatus.OPEN


class PendingQuestionBase(BaseFrame):
    """What a pending question adds to a frame: when it was asked and when it lapses unanswered."""

    __slots__ = ()
    asked_at: float
    expires_at: float

    def expired(self, now: float) -> bool:
        return now > self.expires_at


@dataclass(frozen=True, slots=True)
class AlarmFixQuestion(PendingQuestionBase):
    """A pending question: "请发送整改后的现场照片" for an alarm; the next photo answers it until it
    expires."""

    task: ClassVar[str] = "alarm_fix"
    alarm_id: int
    note: str
    asked_at: float
    expires_at: float
    status: FrameStatus = FrameStatus.OPEN


@dataclass(frozen=True, slots=True)
class BindingFrame(BaseFrame):
    """A site manager binding a site: the project named so far. It stays collecting after a refused
    code (typo, expired), so a corrected 8-character code in the next message retries the same
    project instead of being read as a project lookup; it is done once bound."""

    task: ClassVar[str] = "bind_site"
    project_code: str
    started_at: float
    status: FrameStatus = FrameStatus.COLLECTING


@dataclass(frozen=True, slots=True)
class RatingQuestion(PendingQuestionBase):
    """A pending question asked by push: "请对办理结果评价：1 满意 2 基本满意 3 不满意" after a staff
    reply. ``asked_at`` is the reply's time: a numbered question the bot asked after it takes a bare
    "1" instead. The complaint record stays the truth (the push leaves another process); this frame is
    what the conversation holds of it, checked against that record before a rating is filed."""

    task: ClassVar[str] = "rate_complaint"
    ticket_no: str
    asked_at: float
    expires_at: float
    status: FrameStatus = FrameStatus.OPEN


@dataclass(frozen=True, slots=True)
class Focus:
    """The entities last resolved, for pronouns and ellipsis ("它什么时候完工"): empty when none."""

    project_code: str = ""


Frame = ProjectQueryFrame | ComplaintFrame | EnvironmentFrame | EmergencyFrame | ApprovalFrame | BindingFrame
PendingQuestion = AlarmFixQuestion | RatingQuestion
FRAME_TYPES: dict[str, type[Frame]] = {
    kind.task: kind
    for kind in (
        ProjectQueryFrame,
        ComplaintFrame,
        EnvironmentFrame,
        EmergencyFrame,
        ApprovalFrame,
        BindingFrame,
    )
}
QUESTION_TYPES: dict[str, type[PendingQuestion]] = {
    kind.task: kind for kind in (AlarmFixQuestion, RatingQuestion)
}


def load_frame(data: object) -> Frame:
    """A stored frame, validated; FrameError for an unknown task or a field of the wrong type."""
    kind = FRAME_TYPES.get(data.get("task", "") if isinstance(data, dict) else "")
    if kind is None:
        raise FrameError(f"unknown frame: {data!r}"[:200])
    return kind.from_dict(data)


def load_question(data: object) -> PendingQuestion:
    kind = QUESTION_TYPES.get(data.get("task", "") if isinstance(data, dict) else "")
    if kind is None:
        raise FrameError(f"unknown pending question: {data!r}"[:200])
    return kind.from_dict(data)


def load_focus(data: object) -> Focus:
    if not isinstance(data, dict) or not isinstance(data.get("project_code", ""), str):
        raise FrameError(f"unreadable focus: {data!r}"[:200])
    return Focus(project_code=str(data.get("project_code", "")))
