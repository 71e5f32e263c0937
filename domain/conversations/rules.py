"""Pure rules of the staff queue: states, the transition table and what a queue entry may hold."""

from __future__ import annotations

from enum import StrEnum

from domain.errors import Conflict, ValidationFailed

MAX_QUESTION_CHARS = 2000
MAX_ANSWER_CHARS = 1500  # a custom text message stays well under WeChat's 2048-byte reply budget


class ConversationStatus(StrEnum):
    WAITING = "waiting"  # 排队中: nobody has answered yet
    ANSWERED = "answered"  # 已答复: the answer is in the outbox
    CLOSED = "closed"  # 已关闭: the citizen left or staff closed it without an answer


# A citizen who asks again after an answer reopens the same conversation rather than starting a new one.
TRANSITIONS: dict[ConversationStatus, frozenset[ConversationStatus]] = {
    ConversationStatus.WAITING: frozenset({ConversationStatus.ANSWERED, ConversationStatus.CLOSED}),
    ConversationStatus.ANSWERED: frozenset({ConversationStatus.WAITING, ConversationStatus.CLOSED}),
    ConversationStatus.CLOSED: frozenset({ConversationStatus.WAITING}),
}


def check_transition(current: ConversationStatus, target: ConversationStatus) -> None:
    if target not in TRANSITIONS[current]:
        raise Conflict(
            f"a {current.value} conversation cannot become {target.value}", code="conversation_state_conflict"
        )


def clean_question(text: str) -> str:
    """What the citizen wrote, trimmed to what the queue stores (the rest is not needed to answer)."""
    return text.strip()[:MAX_QUESTION_CHARS]


def clean_answer(text: str) -> str:
    answer = text.strip()
    if not answer:
        raise ValidationFailed("the answer must not be empty", code="empty_answer")
    if len(answer) > MAX_ANSWER_CHARS:
        raise ValidationFailed(
            f"the answer is limited to {MAX_ANSWER_CHARS} characters", code="answer_too_long"
        )
    return answer
