"""Greetings and goodbyes: short answers that point to what the account can do."""

from __future__ import annotations

from bot import messages
from bot.dialogue.types import IntentSpec, Reply, Turn


async def greet(turn: Turn) -> Reply:
    return Reply(messages.GREETING)


async def goodbye(turn: Turn) -> Reply:
    return Reply(messages.GOODBYE)


DIALOGUES = (IntentSpec(intent="greet", handler=greet), IntentSpec(intent="goodbye", handler=goodbye))
