"""转人工: put the conversation in the staff queue (staff answer through the staff API and the outbox)."""

from __future__ import annotations

from bot import messages
from bot.dialogue.types import IntentSpec, Reply, Turn
from domain.conversations.services import request_human


async def human_agent(turn: Turn) -> Reply:
    # What the citizen said before asking for a person is what staff need to answer.
    earlier = [text for text in turn.state.history if text != turn.text] or turn.state.history
    await request_human(turn.openid, question="\n".join(earlier), now=turn.now)
    return Reply(messages.HUMAN_QUEUED)


DIALOGUES = (IntentSpec(intent="human_agent", handler=human_agent),)
