"""Conversation state and remembered locations in the cache port (TTL-bound: they expire by themselves)."""

from __future__ import annotations

import json
import logging

from bot.dialogue.types import ConversationState
from domain.accounts.rules import mask_openid
from domain.ports import Cache

log = logging.getLogger(__name__)

STATE_TTL_S = 30 * 60  # follow-up context ("什么时候完工") lives this long after the last turn
LOCATION_TTL_S = 24 * 3600  # "附近" uses the last location for a day


def _state_key(openid: str) -> str:
    return f"bot:conv:{openid}"


def _location_key(openid: str) -> str:
    return f"bot:loc:{openid}"


async def load_state(cache: Cache, openid: str) -> ConversationState:
    return _state_from(await cache.get(_state_key(openid)), openid)


async def load_context(cache: Cache, openid: str) -> tuple[ConversationState, tuple[float, float] | None]:
    """The conversation state and the remembered location, in one round trip (every message needs
    the state, and most of them might need the location)."""
    raw_state, raw_location = await cache.get_many([_state_key(openid), _location_key(openid)])
    return _state_from(raw_state, openid), _location_from(raw_location)


def _state_from(raw: str | None, openid: str) -> ConversationState:
    if raw is None:
        return ConversationState()
    try:
        return ConversationState.from_json(raw)
    except (ValueError, TypeError) as error:
        # A state written by an older version: start afresh rather than fail the user's message.
        log.warning("dropping unreadable conversation state of %s: %s", mask_openid(openid), error)
        return ConversationState()


async def save_state(cache: Cache, openid: str, state: ConversationState) -> None:
    await cache.set(_state_key(openid), state.to_json(), STATE_TTL_S)


async def remember_location(cache: Cache, openid: str, *, lat: float, lng: float, label: str = "") -> None:
    await cache.set(_location_key(openid), json.dumps([lat, lng, label], ensure_ascii=False), LOCATION_TTL_S)


def _location_from(raw: str | None) -> tuple[float, float] | None:
    if raw is None:
        return None
    lat, lng, _label = json.loads(raw)
    return float(lat), float(lng)


async def erase(cache: Cache, openid: str) -> None:
    """Unsubscribe: forget everything the bot keeps about this user."""
    await cache.delete(_state_key(openid))
    await cache.delete(_location_key(openid))
