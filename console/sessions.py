"""Console sessions and the login lockout, kept in the cache port (in-process or Redis), so any API
process can serve any request and a logout ends the session everywhere.

A session holds the staff bearer token the account service issued at login (re-verified on every
request, so its expiry and signature still apply) and the session's CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from domain.ports import Cache

SESSION_KEY = "console:session:"
FAILURES_KEY = "console:login-failures:"
SID_BYTES = 32


@dataclass(frozen=True, slots=True)
class Session:
    sid: str
    token: str
    csrf: str


def _sid_ok(sid: str) -> bool:
    # Only ids this module could have issued reach the cache: no key injection through the cookie.
    return 40 <= len(sid) <= 64 and all(c.isalnum() or c in "-_" for c in sid)


async def open_session(cache: Cache, *, token: str, ttl_s: float) -> Session:
    session = Session(sid=secrets.token_urlsafe(SID_BYTES), token=token, csrf=secrets.token_urlsafe(32))
    await cache.set(SESSION_KEY + session.sid, json.dumps({"token": token, "csrf": session.csrf}), ttl_s)
    return session


async def load_session(cache: Cache, sid: str) -> Session | None:
    if not _sid_ok(sid):
        return None
    stored = await cache.get(SESSION_KEY + sid)
    if stored is None:
        return None
    try:
        fields = json.loads(stored)
        return Session(sid=sid, token=str(fields["token"]), csrf=str(fields["csrf"]))
    except (ValueError, KeyError, TypeError):
        return None


async def close_session(cache: Cache, sid: str) -> None:
    if _sid_ok(sid):
        await cache.delete(SESSION_KEY + sid)


def token_matches(expected: str, given: str | None) -> bool:
    """CSRF comparison in constant time; an empty expectation never matches."""
    return bool(expected) and given is not None and hmac.compare_digest(expected, given)


def _failures_key(username: str) -> str:
    return FAILURES_KEY + hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


async def failures(cache: Cache, username: str) -> int:
    stored = await cache.get(_failures_key(username))
    return int(stored) if stored and stored.isdigit() else 0


async def record_failure(cache: Cache, username: str, *, lockout_s: float) -> int:
    """One more wrong password; the count lives for ``lockout_s`` after the latest failure. The read
    and write are not atomic: two wrong passwords at the same instant may count once, which moves the
    lockout by one attempt at most."""
    count = await failures(cache, username) + 1
    await cache.set(_failures_key(username), str(count), lockout_s)
    return count


async def clear_failures(cache: Cache, username: str) -> None:
    await cache.delete(_failures_key(username))
